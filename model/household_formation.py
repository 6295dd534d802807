"""Household formation: young adults leave their parents' home for a vacant dwelling.

Part of sub-model 1 (demography), with its own random stream. Each year an adult child, a
person aged 18-34 living in a household whose oldest member is at least
``generation_gap_years`` older, leaves home with the probability of their age band. Leavers
take a vacant dwelling in their own municipality (chosen at random); where none is vacant
they stay, and are counted as ``leavers_without_dwelling`` (pent-up demand for the housing
market). A leaver forms a one-person renter household; income moves with them: the new
household's income follows the synthesis income model for one adult, and the parents'
household loses that person's part of its income.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import NO_ROW, RENTER, Dwellings, Households, Persons, oldest_member_age
from model.parameters import HouseholdFormationRates, IncomeModel


@dataclass(frozen=True)
class FormationFlows:
    """Households formed and leavers who found no dwelling, per municipality (weighted)."""

    households_formed: np.ndarray
    leavers_without_dwelling: np.ndarray


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
        dwelling = vacant_dwelling_for(municipality, dwellings, self.rng)
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
            )
        )
        new_rows = np.arange(first_new, len(households), dtype=np.int32)
        persons.household[leavers] = new_rows
        dwellings.household[dwelling] = new_rows
        formed = np.bincount(municipality, households.weight[new_rows], n_municipalities)
        return FormationFlows(households_formed=formed, leavers_without_dwelling=without)

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


def vacant_dwelling_for(
    municipality: np.ndarray, dwellings: Dwellings, rng: np.random.Generator
) -> np.ndarray:
    """A distinct random vacant dwelling in each seeker's municipality, or NO_ROW if none."""
    vacant = np.flatnonzero(dwellings.household == NO_ROW)
    vacant = vacant[np.lexsort((rng.random(len(vacant)), dwellings.municipality[vacant]))]
    vacant_municipality = dwellings.municipality[vacant]
    order = np.lexsort((rng.random(len(municipality)), municipality))
    sorted_municipality = municipality[order]
    group_start = np.searchsorted(sorted_municipality, sorted_municipality, side="left")
    rank = np.arange(len(order)) - group_start
    first_vacant = np.searchsorted(vacant_municipality, sorted_municipality, side="left")
    vacant_count = (
        np.searchsorted(vacant_municipality, sorted_municipality, side="right") - first_vacant
    )
    chosen = np.full(len(order), NO_ROW, dtype=np.int64)
    ok = rank < vacant_count
    chosen[ok] = vacant[first_vacant[ok] + rank[ok]]
    result = np.empty(len(order), dtype=np.int64)
    result[order] = chosen
    return result
