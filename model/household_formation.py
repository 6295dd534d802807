"""Household formation: young adults leave home; single adults become couples.

Part of sub-model 1 (demography), with its own random stream. Each year an adult child, a
person aged 18-34 living in a household whose oldest member is at least
``generation_gap_years`` older, leaves home with the probability of their age band. Leavers
take a vacant dwelling in their own municipality (chosen at random); where none is vacant
they stay, and are counted as ``leavers_without_dwelling`` (pent-up demand for the housing
market). A leaver forms a one-person renter household; income moves with them: the new
household's income follows the synthesis income model for one adult, and the parents'
household loses that person's part of its income. Single adults also pair up each year
(see ``_form_couples``), which merges two one-person households into one.
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
    random_vacancies,
    remove_households,
)
from model.parameters import HouseholdFormationRates, IncomeModel


@dataclass(frozen=True)
class FormationFlows:
    """Households formed and leavers who found no dwelling, per municipality (weighted)."""

    households_formed: np.ndarray
    leavers_without_dwelling: np.ndarray
    couples_formed: np.ndarray  # one-person households merged into another one


class HouseholdFormation:
    """Young adults leaving home, vectorised over persons."""

    def __init__(
        self,
        rates: HouseholdFormationRates,
        income: IncomeModel,
        income_level_log_nok: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Set up with leaving rates, the income model and its municipal log levels."""
        self.rates = rates
        self.income = income
        self.income_level_log_nok = income_level_log_nok
        self.rng = rng

    def step(
        self, persons: Persons, households: Households, dwellings: Dwellings
    ) -> FormationFlows:
        """Move this year's leavers into vacant dwellings, in place; return the flows."""
        n_municipalities = len(self.income_level_log_nok)
        leavers = self._leavers(persons, households)
        municipality = households.municipality[persons.household[leavers]]
        vacant = np.flatnonzero((dwellings.household == NO_ROW) & ~dwellings.municipal_rental)
        dwelling = random_vacancies(municipality, vacant, dwellings, self.rng)
        housed = dwelling != NO_ROW
        weight = households.weight[persons.household[leavers]]
        without = np.bincount(municipality[~housed], weight[~housed], n_municipalities)

        leavers, municipality, dwelling = leavers[housed], municipality[housed], dwelling[housed]
        employed = persons.employed[leavers]
        parent = persons.household[leavers]
        share_log = (
            self.income.log_income_per_employed * employed + self.income.log_income_per_adult
        )
        np.multiply.at(households.income_nok, parent, np.exp(-share_log))
        income = np.exp(
            self.income_level_log_nok[municipality]
            + share_log
            + self.rng.normal(0.0, self.income.log_income_sd, len(leavers))
        )
        first_new = len(households)
        households.append(
            Households(
                municipality=municipality.astype(np.int16),
                dwelling=dwelling.astype(np.int32),
                income_nok=income,
                tenure=np.full(len(leavers), RENTER, dtype=np.int8),
                weight=households.weight[parent],
                origin=households.origin[parent],
                arrival_year=households.arrival_year[parent],
            )
        )
        new_rows = np.arange(first_new, len(households), dtype=np.int32)
        persons.household[leavers] = new_rows
        dwellings.household[dwelling] = new_rows
        formed = np.bincount(municipality, households.weight[new_rows], n_municipalities)
        couples = self._form_couples(persons, households, dwellings, n_municipalities)
        return FormationFlows(
            households_formed=formed, leavers_without_dwelling=without, couples_formed=couples
        )

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

    def _leavers(self, persons: Persons, households: Households) -> np.ndarray:
        """Rows of the persons who leave home this year."""
        rates = self.rates
        age = persons.age_years
        oldest = oldest_member_age(persons, len(households))[persons.household]
        band = np.searchsorted(rates.age_from_years, age, side="right") - 1
        probability = np.asarray(rates.leave_probability)[np.clip(band, 0, None)]
        eligible = (band >= 0) & (age <= rates.max_age_years)
        eligible &= oldest - age >= rates.generation_gap_years
        return np.flatnonzero(eligible & (self.rng.random(len(persons)) < probability))
