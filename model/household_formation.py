"""Household formation: young adults leave home; single adults become couples.

Part of sub-model 1 (demography), with its own random stream, in two parts of the year:

* **Couples** (``form_couples``, with the demography): single adults pair up each year,
  which merges two one-person households into one.
* **Leaving home** (``leave_home``, just before the housing market): an adult child, a
  person aged 18-34 living in a household whose oldest member is at least
  ``generation_gap_years`` older, leaves home with the probability of their age band
  (times the municipality's ``leave_factor``; higher where dwellings stand empty, lower
  where the market is tight), and couples part
  with ``separation_probability`` (the younger partner leaves). The
  leaver forms a one-person renter household without a dwelling, which looks for one on the
  housing market like any mover, in its home municipality or anywhere in the region (young
  adults leaving suburban homes move to the city as often as not). Income moves with them:
  the new household's income follows the synthesis income model for one adult (at today's
  real level), and the parents' household loses that person's part of its income. A
  leaver who finds no dwelling stays at home (``return_home``): back in the parents'
  household, with its part of the income, and counted as ``leavers_without_dwelling``
  (pent-up demand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import (
    NO_ROW,
    RENTER,
    Dwellings,
    Households,
    Persons,
    household_sizes,
    oldest_member_age,
    remove_households,
)
from model.parameters import HouseholdFormationRates, IncomeModel, municipal_values

# The vacancy ratio that moves the leaving probabilities is held within this range.
VACANCY_RATIO_RANGE = (0.2, 3.0)


@dataclass(frozen=True)
class Leavers:
    """The year's leavers: their new households (without a dwelling yet) and their parents."""

    households: np.ndarray  # rows of the new one-person households
    persons: np.ndarray  # the leaver's person row, one per new household
    parents: np.ndarray  # the household each left
    share_log: np.ndarray  # log income the parents' household gave up to each


@dataclass(frozen=True)
class LeaverFlows:
    """Leavers housed (by the municipality of their dwelling) and those who stayed home."""

    households_formed: np.ndarray
    leavers_without_dwelling: np.ndarray  # by home municipality


class HouseholdFormation:
    """Young adults leaving home and single adults pairing up, vectorised over persons."""

    def __init__(
        self,
        rates: HouseholdFormationRates,
        income: IncomeModel,
        income_level_log_nok: np.ndarray,
        rng: np.random.Generator,
        codes: tuple[str, ...] = (),
    ) -> None:
        """Set up with leaving rates, the income model and its municipal log levels.

        ``codes`` are the municipality numbers in the order of the tables' municipality
        index (for the municipal leaving factors; empty: no factors).
        """
        self.leave_factor = (
            municipal_values(rates.leave_factor, codes, default=1.0)
            if codes
            else np.ones(len(income_level_log_nok))
        )
        self.rates = rates
        self.income = income
        self.income_level_log_nok = income_level_log_nok
        self.rng = rng

    def leave_home(
        self,
        persons: Persons,
        households: Households,
        income_index: float = 1.0,
        vacancy_ratio: np.ndarray | None = None,
    ) -> Leavers:
        """Move this year's leavers into new households without a dwelling, in place.

        ``income_index`` is the real income level relative to the base year (the
        demography's real growth): a leaver's new income is drawn at today's level.
        ``vacancy_ratio`` is each municipality's vacancy over its base-year vacancy (None:
        1 everywhere); young adults leave home more readily where it is high. The new
        households are appended and keep the parents' municipality until the housing market
        houses them.
        """
        leavers = np.union1d(
            self._leavers(persons, households, vacancy_ratio),
            self._separating(persons, households),
        )
        parent = persons.household[leavers]
        municipality = households.municipality[parent]
        share_log = (
            self.income.log_income_per_employed * persons.employed[leavers]
            + self.income.log_income_per_adult
        )
        np.multiply.at(households.income_nok, parent, np.exp(-share_log))
        income = np.exp(
            self.income_level_log_nok[municipality]
            + np.log(income_index)
            + share_log
            + self.rng.normal(0.0, self.income.log_income_sd, len(leavers))
        )
        first_new = len(households)
        households.append(
            Households(
                municipality=municipality.astype(np.int16),
                dwelling=np.full(len(leavers), NO_ROW, dtype=np.int32),
                income_nok=income,
                tenure=np.full(len(leavers), RENTER, dtype=np.int8),
                weight=households.weight[parent],
                origin=households.origin[parent],
                arrival_year=households.arrival_year[parent],
            )
        )
        new_rows = np.arange(first_new, len(households), dtype=np.int32)
        persons.household[leavers] = new_rows
        return Leavers(new_rows, leavers, parent, share_log)

    def form_couples(
        self, persons: Persons, households: Households, dwellings: Dwellings
    ) -> np.ndarray:
        """Pair single adults; the couples formed by municipality (see ``_form_couples``)."""
        return self._form_couples(persons, households, dwellings, len(self.income_level_log_nok))

    def _form_couples(
        self,
        persons: Persons,
        households: Households,
        dwellings: Dwellings,
        n_municipalities: int,
    ) -> np.ndarray:
        """Pair single adults of one municipality; the second moves in with the first.

        Each one-person household aged ``couple_min_age_years``-``couple_max_age_years``
        looks for a partner with probability ``couple_probability``; those looking are paired
        at random within their municipality. The pair keeps the larger of the two dwellings
        (and that household's tenure) and adds up their incomes; the other dwelling becomes
        vacant.
        """
        rates = self.rates
        size = household_sizes(persons, len(households))
        age = np.zeros(len(households), dtype=np.int16)
        age[persons.household] = persons.age_years  # the only member's age where size == 1
        looking = np.flatnonzero(
            (size == 1)
            & (age >= rates.couple_min_age_years)
            & (age <= rates.couple_max_age_years)
            & (self.rng.random(len(households)) < rates.couple_probability)
        )
        municipality = households.municipality[looking]
        order = np.lexsort((self.rng.random(len(looking)), municipality))
        looking, municipality = looking[order], municipality[order]
        rank = np.arange(len(looking)) - np.searchsorted(municipality, municipality)
        group_size = np.searchsorted(municipality, municipality, side="right") - np.searchsorted(
            municipality, municipality
        )
        first = (rank % 2 == 0) & (rank + 1 < group_size)
        one, other = looking[first], looking[np.flatnonzero(first) + 1]
        area = dwellings.floor_area_m2[households.dwelling]
        larger_first = area[one] >= area[other]  # the couple keeps the larger dwelling
        keeps = np.where(larger_first, one, other)
        joins = np.where(larger_first, other, one)
        households.income_nok[keeps] += households.income_nok[joins]
        joining_person = np.isin(persons.household, joins)
        partner_of = np.full(len(households), -1, dtype=np.int64)
        partner_of[joins] = keeps
        persons.household[joining_person] = partner_of[persons.household[joining_person]]
        merged = np.bincount(
            households.municipality[joins], households.weight[joins], n_municipalities
        )
        gone = np.zeros(len(households), dtype=bool)
        gone[joins] = True
        remove_households(persons, households, dwellings, gone)
        return merged

    def _separating(self, persons: Persons, households: Households) -> np.ndarray:
        """Rows of the partners who leave a couple this year (the younger of the two)."""
        rates = self.rates
        order = np.lexsort((-persons.age_years, persons.household))
        household = persons.household[order]
        first = np.searchsorted(household, np.arange(len(households)))
        size = np.diff(np.append(first, len(order)))
        couple = np.flatnonzero(size >= 2)
        oldest, partner = order[first[couple]], order[first[couple] + 1]
        age_oldest, age_partner = persons.age_years[oldest], persons.age_years[partner]
        eligible = (
            (age_oldest >= rates.couple_min_age_years)
            & (age_oldest <= rates.separation_max_age_years)
            & (age_partner >= rates.couple_min_age_years)
            & (age_oldest - age_partner < rates.generation_gap_years)
        )
        parting = self.rng.random(len(couple)) < rates.separation_probability
        return partner[eligible & parting]

    def _leavers(
        self, persons: Persons, households: Households, vacancy_ratio: np.ndarray | None
    ) -> np.ndarray:
        """Rows of the persons who leave home this year."""
        rates = self.rates
        age = persons.age_years
        oldest = oldest_member_age(persons, len(households))[persons.household]
        band = np.searchsorted(rates.age_from_years, age, side="right") - 1
        probability = np.asarray(rates.leave_probability)[np.clip(band, 0, None)]
        response = self.leave_factor
        if vacancy_ratio is not None:
            ratio = np.clip(vacancy_ratio, *VACANCY_RATIO_RANGE)
            response = response * ratio**rates.leave_vacancy_elasticity
        probability = probability * response[households.municipality[persons.household]]
        eligible = (band >= 0) & (age <= rates.max_age_years)
        eligible &= oldest - age >= rates.generation_gap_years
        return np.flatnonzero(eligible & (self.rng.random(len(persons)) < probability))


def return_home(
    persons: Persons, households: Households, leavers: Leavers, n_municipalities: int
) -> LeaverFlows:
    """Send the leavers the market did not house back to their parents; count both kinds.

    A leaver without a dwelling rejoins the parents' household, which gets its part of the
    income back; the leaver's household is left empty (its row is removed with the other
    unhoused households by the caller). Housed leavers are counted by the municipality of
    their new dwelling.
    """
    housed = households.dwelling[leavers.households] != NO_ROW
    weight = households.weight[leavers.households]
    formed = np.bincount(
        households.municipality[leavers.households[housed]], weight[housed], n_municipalities
    )
    without = np.bincount(
        households.municipality[leavers.parents[~housed]], weight[~housed], n_municipalities
    )
    back = ~housed
    persons.household[leavers.persons[back]] = leavers.parents[back]
    np.multiply.at(households.income_nok, leavers.parents[back], np.exp(leavers.share_log[back]))
    return LeaverFlows(formed, without)
