"""Sub-model 1, demography: deaths, births, ageing and labour status, once a year.

All rules are vectorised over the person columns:

* deaths: each person dies with the SSB life-table probability of their sex and age;
* births: each woman of fertile age (15-49 in the table) who survives the year gives birth
  with the age-specific fertility rate; the child (a boy with probability ``male_share``)
  joins her household;
* ageing: survivors are one year older on 1 January (100 stands for 100 and over);
* labour status: a share ``churn_per_year`` of persons aged 15-74 has its employment redrawn
  from the propensity of its age, sex and municipality, so employment follows the age
  structure; the propensities grow by ``propensity_growth_per_year`` (the rising employment
  rate of SSB 11618, capped at ``propensity_max``); persons reaching the retirement age
  leave employment;
* incomes: a household's income follows its members' work (a member who starts or stops
  working, retirement included, multiplies or divides it by ``exp(log_income_per_employed)``
  of the synthesis income model; a member who dies takes their part with them) and grows
  by ``real_growth_per_year`` (2024 NOK);
* households whose last member died are dissolved and their dwellings become vacant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agents.population import (
    FEMALE,
    MALE,
    Dwellings,
    Households,
    Persons,
    household_sizes,
    remove_households,
)
from model.bundle import Bundle
from model.parameters import DemographyParameters, IncomeModel
from model.synthesis.attributes import employment_propensity

MAX_AGE_YEARS = 100
ADULT_AGE_YEARS = 18  # the income model's adults


@dataclass(frozen=True)
class DemographyRates:
    """Rates by sex and age, indexed ``[sex, age]`` or ``[age]`` (ages 0-100)."""

    death_probability: np.ndarray  # (2, 101)
    births_per_woman: np.ndarray  # (101,), zero outside 15-49
    employment_rates: pd.DataFrame
    employment_propensity: np.ndarray  # (2, 101) national rate of each sex and age
    fertile_ages: tuple[int, int]  # first and last age with a fertility rate above 0

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> DemographyRates:
        """Read the life table, fertility and employment rates of the bundle."""
        death = np.zeros((2, MAX_AGE_YEARS + 1))
        mortality = bundle["mortality_rates.csv"]
        for sex_index, sex_name in ((FEMALE, "female"), (MALE, "male")):
            rows = mortality[mortality["sex"] == sex_name]
            death[sex_index, np.minimum(rows["age"].to_numpy(), MAX_AGE_YEARS)] = rows[
                "death_probability"
            ].to_numpy()
        fertility = bundle["fertility_rates.csv"]
        births = np.zeros(MAX_AGE_YEARS + 1)
        births[fertility["age"].to_numpy()] = fertility["births_per_woman"].to_numpy()
        rates = bundle["employment_rate_by_age_sex.csv"]
        ages = np.arange(MAX_AGE_YEARS + 1)
        propensity = np.stack(
            [employment_propensity(ages, np.full_like(ages, sex), rates) for sex in (FEMALE, MALE)]
        )
        fertile = np.flatnonzero(births > 0)
        return cls(death, births, rates, propensity, (int(fertile[0]), int(fertile[-1])))


@dataclass(frozen=True)
class DemographyFlows:
    """What happened during one year, in full-population units per municipality."""

    births: np.ndarray
    deaths: np.ndarray
    households_dissolved: np.ndarray


class Demography:
    """The demography sub-model with its own random stream."""

    def __init__(
        self,
        rates: DemographyRates,
        params: DemographyParameters,
        rng: np.random.Generator,
        employment_factor: np.ndarray,
        income: IncomeModel,
    ) -> None:
        """Set up with rates, parameters, a stream and per-municipality employment factors.

        ``employment_factor[m]`` scales the national employment propensities so that they
        reproduce municipality ``m``'s base-year employment (see :func:`employment_factors`);
        ``income`` is the synthesis income model, whose log income per employed member and
        per adult a household gains or loses as members start or stop working or die.
        """
        self.rates = rates
        self.params = params
        self.rng = rng
        self.employment_factor = employment_factor
        self.income = income
        self.years = 0  # years stepped since the base year
        self.income_index = 1.0  # real income level relative to the base year

    def step(
        self, persons: Persons, households: Households, dwellings: Dwellings
    ) -> DemographyFlows:
        """Advance the tables by one year, in place, and return the year's flows."""
        n_municipalities = len(self.employment_factor)
        person_municipality = households.municipality[persons.household]
        person_weight = households.weight[persons.household]
        age = persons.age_years  # 0-100, 100 standing for 100 and over
        sex_age = persons.sex.astype(np.intp) * (MAX_AGE_YEARS + 1) + age

        dies = self.rng.random(len(persons)) < self.rates.death_probability.ravel()[sex_age]
        lost_log = self.income.log_income_per_employed * persons.employed[
            dies
        ] + self.income.log_income_per_adult * (age[dies] >= ADULT_AGE_YEARS)
        households.income_nok *= np.exp(
            -np.bincount(persons.household[dies], lost_log, len(households))
        )
        first_age, last_age = self.rates.fertile_ages
        women = np.flatnonzero(
            (persons.sex == FEMALE) & (age >= first_age) & (age <= last_age) & ~dies
        )
        mothers = women[self.rng.random(len(women)) < self.rates.births_per_woman[age[women]]]
        births = np.bincount(person_municipality[mothers], person_weight[mothers], n_municipalities)
        deaths = np.bincount(person_municipality[dies], person_weight[dies], n_municipalities)

        survives = ~dies
        persons.take(survives)
        persons.age_years = np.minimum(persons.age_years + 1, MAX_AGE_YEARS).astype(np.int16)
        self.years += 1
        was_employed = persons.employed.copy()
        self._update_labour_status(persons, person_municipality[survives])
        income_follows_employment(
            persons, households, was_employed, self.income.log_income_per_employed
        )
        growth = 1.0 + self.params.income.real_growth_per_year
        households.income_nok *= growth
        self.income_index *= growth
        newborn_household = households_of_mothers(persons, mothers, dies)
        persons.append(
            Persons(
                age_years=np.zeros(len(mothers), dtype=np.int16),
                sex=(self.rng.random(len(mothers)) < self.params.births.male_share).astype(np.int8),
                household=newborn_household,
                employed=np.zeros(len(mothers), dtype=bool),
            )
        )
        dissolved = dissolve_empty_households(persons, households, dwellings)
        return DemographyFlows(
            births=births,
            deaths=deaths,
            households_dissolved=np.bincount(dissolved[0], dissolved[1], n_municipalities),
        )

    def _update_labour_status(self, persons: Persons, municipality: np.ndarray) -> None:
        """Redraw a share ``churn_per_year`` of statuses from the propensity; retire at 75.

        One uniform draw per person serves both decisions: ``u < churn`` selects the person
        for a redraw, and ``u / churn`` (uniform again given the selection) decides it.
        """
        labour = self.params.labour
        sex_age = persons.sex.astype(np.intp) * (MAX_AGE_YEARS + 1) + persons.age_years
        probability = self.rates.employment_propensity.ravel()[sex_age]
        probability *= self.employment_factor[municipality]
        trend = (1.0 + labour.propensity_growth_per_year) ** self.years
        probability = np.minimum(
            probability * trend, np.maximum(probability, labour.propensity_max)
        )
        u = self.rng.random(len(persons))
        redraw = u < labour.churn_per_year
        persons.employed[redraw] = u[redraw] < labour.churn_per_year * probability[redraw]
        outside = (persons.age_years < labour.min_working_age_years) | (
            persons.age_years >= labour.retirement_age_years
        )
        persons.employed[outside] = False


def income_follows_employment(
    persons: Persons,
    households: Households,
    was_employed: np.ndarray,
    log_income_per_employed: float,
) -> None:
    """Multiply each household's income by ``exp(b * (members now employed - before))``.

    ``was_employed`` is the employment of the same person rows before the change, so a
    member who starts working raises the household's income by the synthesis income model's
    part of an employed member, and one who stops (retirement included) lowers it by as much.
    """
    change = persons.employed.astype(np.int64) - was_employed.astype(np.int64)
    if not change.any():
        return
    net = np.bincount(persons.household, change, len(households))
    households.income_nok *= np.exp(log_income_per_employed * net)


def households_of_mothers(persons: Persons, mothers: np.ndarray, dies: np.ndarray) -> np.ndarray:
    """Household of each mother after the dead were removed (rows shift down)."""
    survivors_before = np.cumsum(~dies) - 1  # new row of each surviving old row
    return persons.household[survivors_before[mothers]]


def dissolve_empty_households(
    persons: Persons, households: Households, dwellings: Dwellings
) -> tuple[np.ndarray, np.ndarray]:
    """Remove households without members, free their dwellings and renumber the rest.

    Returns the municipality and weight of each dissolved household.
    """
    empty = household_sizes(persons, len(households)) == 0
    dissolved = (households.municipality[empty], households.weight[empty])
    remove_households(persons, households, dwellings, empty)
    return dissolved


def employment_factors(
    persons: Persons, households: Households, rates: pd.DataFrame, n_municipalities: int
) -> np.ndarray:
    """Per municipality: employed persons / sum of national employment propensities.

    Multiplying the national propensities by this factor reproduces the base-year number of
    employed residents of each municipality in expectation.
    """
    municipality = households.municipality[persons.household]
    propensity = employment_propensity(persons.age_years, persons.sex, rates)
    expected = np.bincount(municipality, propensity, n_municipalities)
    employed = np.bincount(municipality, persons.employed, n_municipalities)
    return np.divide(employed, expected, out=np.ones(n_municipalities), where=expected > 0)
