"""Sub-model 2, migration: households leave the region and others arrive.

* **Out-migration.** Each household leaves the region with the probability of the age band
  of its oldest member (young households move most).
* **Volume of in-migration.** The *regional* total follows SSB's main projection (MMMM;
  after its last year, 2050, the last yearly growth continues):
  arrivals fill the gap between the population after births, deaths and out-migration and the
  projected population of next 1 January. Only the regional total is taken from the
  projection; where arrivals settle is decided by the housing market's location choice (and,
  for refugees, by the settlement rule), never by the per-municipality projection.
* **Who arrives.** Refugee households (a scenario number per year), labour migrants from
  abroad and in-migrants from the rest of Norway. Arriving households are copies of the
  composition (ages, sexes) of resident households whose oldest member is of moving age,
  drawn with the out-migration probability of that age (arrivals look like leavers);
  labour migrants' adults are mostly employed, refugees' employment ramps up over the
  first years (see ``refugee_employment``), and their incomes start lower.

Arrivals leave this sub-model without a dwelling; the housing market houses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.population import (
    DOMESTIC_IN_MIGRANT,
    FEMALE,
    LABOUR_MIGRANT,
    NO_ROW,
    REFUGEE,
    RENTER,
    Dwellings,
    Households,
    Persons,
    household_sizes,
    oldest_member_age,
    remove_households,
)
from model.parameters import MigrationParameters

SETTLEMENT_RULES = ("dispersed", "concentrated", "quotas")


@dataclass(frozen=True)
class SettlementPolicy:
    """How many refugee households arrive each year and how they are settled (a lever).

    ``rule``: ``dispersed`` (in proportion to municipal population, avoiding cells where
    immigrants exceed the parameter ``settlement_immigrant_share_max``), ``concentrated``
    (into the cheapest vacant dwellings of the region) or ``quotas`` (``quotas`` gives
    households per year by municipality number; ``refugee_households_per_year`` is then
    their sum).
    """

    rule: str = "dispersed"
    refugee_households_per_year: float = 1000.0
    quotas: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse an unknown rule or a negative number."""
        if self.rule not in SETTLEMENT_RULES:
            raise ValueError(
                f"settlement rule '{self.rule}' is unknown; allowed: {', '.join(SETTLEMENT_RULES)}"
            )
        if self.refugee_households_per_year < 0 or any(v < 0 for v in self.quotas.values()):
            raise ValueError("refugee households per year must be >= 0")


@dataclass
class Arrivals:
    """Households arriving this year, not yet housed (``households.dwelling`` is NO_ROW).

    ``persons.household`` indexes ``households`` of this object. ``households.municipality``
    is the settlement municipality for refugees and -1 for the others (chosen by the market).
    """

    persons: Persons
    households: Households


@dataclass(frozen=True)
class MigrationFlows:
    """Out-migration per municipality and arrivals by kind (full-population units)."""

    out_migrants: np.ndarray  # persons, by municipality of departure
    out_households: np.ndarray
    in_migrants_planned: float  # persons the projection asks for this year
    refugee_households_planned: float


class Migration:
    """Out-migration, the in-migration volume and the arriving households."""

    def __init__(
        self,
        params: MigrationParameters,
        policy: SettlementPolicy,
        projected_population: dict[int, float],
        codes: tuple[str, ...],
        rng: np.random.Generator,
    ) -> None:
        """Set up with parameters, the settlement lever, the regional projection by year."""
        self.params = params
        self.policy = policy
        self.projected_population = projected_population
        self.codes = codes
        self.rng = rng

    def step(
        self, year: int, persons: Persons, households: Households, dwellings: Dwellings
    ) -> tuple[Arrivals, MigrationFlows]:
        """Remove this year's out-migrants (in place) and return the arriving households."""
        n_municipalities = len(self.codes)
        size = household_sizes(persons, len(households))
        leaving = self._out_migrants(persons, households)
        out_persons = np.bincount(
            households.municipality[leaving],
            (households.weight * size)[leaving],
            n_municipalities,
        )
        out_households = np.bincount(
            households.municipality[leaving], households.weight[leaving], n_municipalities
        )
        remove_households(persons, households, dwellings, leaving)

        mean_weight = float(households.weight.mean())
        population = float(households.weight[persons.household].sum())
        target = projected_population(self.projected_population, year + 1, population)
        wanted_persons = max(target - population, 0.0)
        size = household_sizes(persons, len(households))
        expected_refugees = self.policy.refugee_households_per_year / mean_weight
        n_refugees = int(self.rng.poisson(expected_refugees)) if expected_refugees > 0 else 0
        refugee_templates = self._templates(persons, households, n_refugees)
        refugee_persons = float(size[refugee_templates].sum()) * mean_weight
        other_templates = self._enough_templates(
            persons, households, max(wanted_persons - refugee_persons, 0.0) / mean_weight
        )
        arrivals = self._copies(
            persons, households, np.concatenate([refugee_templates, other_templates])
        )
        self._make_refugees(arrivals, n_refugees, persons, households)
        self._make_labour_migrants(arrivals, n_refugees)
        arrivals.households.weight[:] = mean_weight
        arrivals.households.arrival_year[:] = year
        flows = MigrationFlows(
            out_migrants=out_persons,
            out_households=out_households,
            in_migrants_planned=wanted_persons,
            refugee_households_planned=self.policy.refugee_households_per_year,
        )
        return arrivals, flows

    def _out_migrants(self, persons: Persons, households: Households) -> np.ndarray:
        probability = self._out_probability(oldest_member_age(persons, len(households)))
        return self.rng.random(len(households)) < probability

    def _out_probability(self, oldest_age_years: np.ndarray) -> np.ndarray:
        """Yearly probability of leaving the region for households of these oldest ages."""
        band = np.searchsorted(self.params.out_age_from_years, oldest_age_years, side="right") - 1
        probability = np.asarray(self.params.out_probability)[np.clip(band, 0, None)]
        return np.where(band >= 0, probability, 0.0)

    def _templates(self, persons: Persons, households: Households, n: int) -> np.ndarray:
        """``n`` resident households (rows, with repetition) to copy the composition of.

        Households whose oldest member is within the template ages are drawn with the
        out-migration probability of that age as weight, so arrivals have the age (and so
        the size) profile of the households that leave: mostly young and small, as
        migration between regions is.
        """
        oldest = oldest_member_age(persons, len(households))
        eligible = np.flatnonzero(
            (oldest >= self.params.template_oldest_age_min_years)
            & (oldest <= self.params.template_oldest_age_max_years)
        )
        weight = self._out_probability(oldest[eligible])
        return eligible[self.rng.choice(len(eligible), n, p=weight / weight.sum())]

    def _copies(self, persons: Persons, households: Households, templates: np.ndarray) -> Arrivals:
        """New households with the members (ages, sexes) of ``templates``."""
        order = np.argsort(persons.household, kind="stable")
        first = np.searchsorted(persons.household[order], np.arange(len(households) + 1))
        count = first[templates + 1] - first[templates]
        new_household = np.repeat(np.arange(len(templates), dtype=np.int32), count)
        offset = np.arange(len(new_household)) - np.repeat(np.cumsum(count) - count, count)
        source = order[np.repeat(first[templates], count) + offset]
        new_persons = Persons(
            age_years=persons.age_years[source].copy(),
            sex=persons.sex[source].copy(),
            household=new_household,
            employed=persons.employed[source].copy(),
        )
        n = len(templates)
        new_households = Households(
            municipality=np.full(n, -1, dtype=np.int16),
            dwelling=np.full(n, NO_ROW, dtype=np.int32),
            income_nok=households.income_nok[templates].copy(),
            tenure=np.full(n, RENTER, dtype=np.int8),
            weight=np.ones(n),
            origin=np.full(n, DOMESTIC_IN_MIGRANT, dtype=np.int8),
            arrival_year=np.zeros(n, dtype=np.int16),
        )
        return Arrivals(new_persons, new_households)

    def _make_labour_migrants(self, arrivals: Arrivals, first: int) -> None:
        """Mark a share of the non-refugee arrivals (rows ``first`` on) as labour migrants."""
        labour = np.zeros(len(arrivals.households), dtype=bool)
        labour[first:] = self.rng.random(len(labour) - first) < self.params.labour_migrant_share
        arrivals.households.origin[labour] = LABOUR_MIGRANT
        member_labour = labour[arrivals.persons.household]
        adult = arrivals.persons.age_years >= 18
        employed = self.rng.random(len(arrivals.persons)) < self.params.labour_migrant_employment
        arrivals.persons.employed[member_labour & adult] = employed[member_labour & adult]

    def _enough_templates(
        self, persons: Persons, households: Households, wanted_rows: float
    ) -> np.ndarray:
        """Templates whose members add up to ``wanted_rows`` (the last one by chance)."""
        if wanted_rows <= 0:
            return np.zeros(0, dtype=np.int64)
        size = household_sizes(persons, len(households))
        templates = self._templates(persons, households, int(wanted_rows) + 1)
        members = np.cumsum(size[templates])
        whole = int(np.searchsorted(members, wanted_rows, side="right"))
        before = members[whole - 1] if whole > 0 else 0
        last_share = (wanted_rows - before) / size[templates[whole]]
        keep = whole + int(self.rng.random() < last_share)
        return templates[:keep]

    def _make_refugees(
        self, arrivals: Arrivals, n: int, persons: Persons, households: Households
    ) -> None:
        """Mark the first ``n`` arrivals as refugees: settlement municipality, income, work."""
        rows = slice(0, n)
        arrivals.households.origin[rows] = REFUGEE
        arrivals.households.income_nok[rows] *= self.params.refugee_income_factor
        arrivals.households.municipality[rows] = self._settlement_municipalities(
            persons, households, n
        )
        members = arrivals.persons.household < n
        arrivals.persons.employed[members] = refugee_employment(
            arrivals.persons.age_years[members],
            arrivals.persons.sex[members],
            np.zeros(int(members.sum()), dtype=np.int64),
            self.params,
            self.rng,
        )

    def _settlement_municipalities(
        self, persons: Persons, households: Households, n: int
    ) -> np.ndarray:
        if n == 0 or self.policy.rule == "concentrated":
            return np.full(n, -1, dtype=np.int16)  # the market finds the cheapest dwellings
        if self.policy.rule == "quotas":
            index = {code: i for i, code in enumerate(self.codes)}
            unknown = sorted(set(self.policy.quotas) - set(index))
            if unknown:
                raise ValueError(f"settlement quotas name unknown municipality {unknown[0]}")
            share = np.zeros(len(self.codes))
            for code, households_per_year in self.policy.quotas.items():
                share[index[code]] = households_per_year
        else:  # dispersed: in proportion to municipal population
            municipality = households.municipality[persons.household]
            share = np.bincount(municipality, households.weight[persons.household], len(self.codes))
        if share.sum() <= 0:
            return np.full(n, -1, dtype=np.int16)
        return self.rng.choice(len(self.codes), n, p=share / share.sum()).astype(np.int16)


def projected_population(projection: dict[int, float], year: int, otherwise: float) -> float:
    """The regional population ``projection`` gives for 1 January ``year``.

    After the projection's last year its last yearly growth continues (SSB's main projection
    ends in 2050, so the flows of a run's year 2050 aim at 2051); before its first year, or
    with fewer than two years, ``otherwise``.
    """
    if year in projection:
        return projection[year]
    last = max(projection, default=None)
    if last is None or year < last or (last - 1) not in projection:
        return otherwise
    growth = projection[last] / projection[last - 1] if projection[last - 1] > 0 else 1.0
    return projection[last] * growth ** (year - last)


def refugee_employment(
    age_years: np.ndarray,
    sex: np.ndarray,
    years_since_arrival: np.ndarray,
    params: MigrationParameters,
    rng: np.random.Generator,
) -> np.ndarray:
    """Employment of refugees drawn from the ramp by years since arrival (ages 15-74).

    The ramp (``refugee_employment_men`` / ``_women``, one value per year 0, 1, ... with the
    last held) reaches about 65 % for men and 45 % for women after five years.
    """
    men = np.asarray(params.refugee_employment_men)
    women = np.asarray(params.refugee_employment_women)
    years = np.clip(years_since_arrival, 0, len(men) - 1)
    rate = np.where(sex == FEMALE, women[years], men[years])
    working_age = (age_years >= 15) & (age_years <= 74)
    return working_age & (rng.random(len(age_years)) < rate)
