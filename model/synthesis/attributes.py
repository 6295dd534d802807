"""Employment, income and tenure of the synthetic persons and households."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agents.population import COOP_OWNER, MUNICIPAL_RENTER, NO_ROW, OWNER, RENTER, Dwellings
from model.parameters import IncomeModel, TenureModel
from model.synthesis.sampling import apportion, weighted_sample_without_replacement

MIN_WORKING_AGE_YEARS = 15
MAX_WORKING_AGE_YEARS = 74


def employment_propensity(
    age_years: np.ndarray, sex: np.ndarray, rates: pd.DataFrame
) -> np.ndarray:
    """Employment rate of each person's age group and sex (0 outside the groups)."""
    table = np.zeros((2, 101))
    for sex_index, sex_name in enumerate(("female", "male")):
        for row in rates[rates["sex"] == sex_name].itertuples():
            table[sex_index, int(row.age_from) : int(row.age_to) + 1] = row.employment_rate
    return table[sex, np.minimum(age_years, 100)]


def assign_employment(
    age_years: np.ndarray,
    sex: np.ndarray,
    municipality: np.ndarray,
    employed_target: np.ndarray,
    rates: pd.DataFrame,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mark exactly ``employed_target[m]`` persons of municipality ``m`` as employed.

    Within a municipality, who is employed follows the national employment rates by age
    group and sex (as relative propensities), so the municipal total matches SSB 11618 and
    the age profile matches the national one.
    """
    propensity = employment_propensity(age_years, sex, rates)
    employed = np.zeros(len(age_years), dtype=bool)
    for m, target in enumerate(employed_target):
        rows = np.flatnonzero(municipality == m)
        chosen = weighted_sample_without_replacement(propensity[rows], int(target), rng)
        chosen = chosen[propensity[rows][chosen] > 0]
        employed[rows[chosen]] = True
    return employed


def household_income_nok(
    n_employed: np.ndarray,
    n_adults: np.ndarray,
    municipality: np.ndarray,
    median_income_nok: np.ndarray,
    params: IncomeModel,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Household income after tax, NOK: log-linear in earners and adults, median per SSB.

    ``log y = b_e * employed + b_a * adults + sd * noise``, then shifted per municipality so
    that its median equals the SSB median (all households of a municipality share one weight,
    so the plain median is the weighted one). Returns the incomes and each municipality's
    level ``log y - (b_e * employed + b_a * adults + noise)``, which households formed later
    share.
    """
    log_income = (
        params.log_income_per_employed * n_employed
        + params.log_income_per_adult * n_adults
        + rng.normal(0.0, params.log_income_sd, len(n_employed))
    )
    level = np.zeros(len(median_income_nok))
    for m, median in enumerate(median_income_nok):
        rows = municipality == m
        if rows.any():
            level[m] = np.log(median) - np.median(log_income[rows])
            log_income[rows] += level[m]
    return np.exp(log_income), level


def assign_tenure(
    income_nok: np.ndarray,
    oldest_age_years: np.ndarray,
    lives_in_house: np.ndarray,
    municipality: np.ndarray,
    tenure_pct: np.ndarray,
    params: TenureModel,
    rng: np.random.Generator,
) -> np.ndarray:
    """Owner, cooperative owner or renter, with SSB 11084 shares per municipality.

    Households are ranked by ``income + age + house + noise`` (standardised); the top share
    owns, the next owns through a cooperative, the rest rent. ``tenure_pct`` is (M, 3) in the
    order owner, coop owner, renter; a missing coop share (suppressed by SSB in small
    municipalities, where owner + renter = 100 %) counts as 0.
    """
    tenure = np.full(len(income_nok), RENTER, dtype=np.int8)
    score = (
        params.income_weight * _standardise(np.log(income_nok))
        + params.age_weight * _standardise(oldest_age_years.astype(float))
        + params.house_weight * lives_in_house
        + rng.normal(0.0, params.noise_sd, len(income_nok))
    )
    for m in range(len(tenure_pct)):
        rows = np.flatnonzero(municipality == m)
        owners, coop, _ = apportion(len(rows), np.nan_to_num(tenure_pct[m]))
        ranked = rows[np.argsort(-score[rows], kind="stable")]
        tenure[ranked[:owners]] = OWNER
        tenure[ranked[owners : owners + coop]] = COOP_OWNER
    return tenure


def assign_municipal_rental(
    tenure: np.ndarray,
    income_per_unit_nok: np.ndarray,
    household_municipality: np.ndarray,
    household_dwelling: np.ndarray,
    dwellings: Dwellings,
    share_of_households: float,
    rng: np.random.Generator,
) -> None:
    """Turn the lowest-income renters into municipal renters, and their dwellings municipal.

    In each municipality ``share_of_households`` of the households (at most all renters) rent
    from the municipality: the renters with the lowest income per consumption unit. The same
    share of its vacant dwellings is municipal too, so that the municipality has dwellings
    to allocate. Changes ``tenure`` and ``dwellings.municipal_rental`` in place.
    """
    for m in np.unique(household_municipality):
        renters = np.flatnonzero((household_municipality == m) & (tenure == RENTER))
        n = min(
            int(round(share_of_households * np.count_nonzero(household_municipality == m))),
            len(renters),
        )
        poorest = renters[np.argsort(income_per_unit_nok[renters], kind="stable")[:n]]
        tenure[poorest] = MUNICIPAL_RENTER
        dwellings.municipal_rental[household_dwelling[poorest]] = True
        vacant = np.flatnonzero((dwellings.municipality == m) & (dwellings.household == NO_ROW))
        k = int(round(share_of_households * len(vacant)))
        dwellings.municipal_rental[rng.choice(vacant, k, replace=False)] = True


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
