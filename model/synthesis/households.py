"""Grouping a municipality's persons into households.

The number of households is fixed by the persons-per-household statistic; who lives with
whom follows a documented rule (data/README.md, "Synthetic population"):

1. Heads: as many adults as there are households, drawn with an age-dependent propensity.
2. Partners: a share ``partner_share`` of the non-head adults aged ``partner_min_age_years``
   and over join a head of about their own age (both lists sorted by age with a little
   noise and paired rank by rank).
3. Dependants: children, younger non-head adults and the other non-head adults (adult
   children, relatives, lodgers) join a *family* household whose head is about one
   generation older. Families are the heads most likely to have children (around 42, with
   couples preferred); their number is the number of dependants / ``children_per_family``.

Everyone ends in exactly one household and every household has its head, so the mean
household size equals persons / households exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.parameters import HouseholdFormation
from model.synthesis.sampling import weighted_sample_without_replacement


def form_households(
    age_years: np.ndarray,
    n_households: int,
    params: HouseholdFormation,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return, for each person, the household (0 .. n_households-1) they live in."""
    n = len(age_years)
    n_households = int(np.clip(n_households, 1, n))
    household = np.full(n, -1, dtype=np.int32)

    heads = weighted_sample_without_replacement(
        head_propensity(age_years, params), n_households, rng
    )
    household[heads] = np.arange(n_households, dtype=np.int32)
    head_age = age_years[heads].astype(float)

    has_partner = _join_partners(age_years, household, head_age, params, rng)
    _join_dependants(age_years, household, head_age, has_partner, params, rng)
    return household


def head_propensity(age_years: np.ndarray, params: HouseholdFormation) -> np.ndarray:
    """Relative propensity of each person to head a household (tiny below adult age)."""
    band = np.searchsorted(params.head_propensity_age_from, age_years, side="right") - 1
    propensity = np.asarray(params.head_propensity)[np.clip(band, 0, None)]
    return np.where(band >= 0, propensity, 1e-9)


def _join_partners(
    age_years: np.ndarray,
    household: np.ndarray,
    head_age: np.ndarray,
    params: HouseholdFormation,
    rng: np.random.Generator,
) -> np.ndarray:
    """Pair non-head adults with heads of similar age; return which households got one."""
    n_households = len(head_age)
    adults = np.flatnonzero((household < 0) & (age_years >= params.partner_min_age_years))
    n_partners = min(int(round(params.partner_share * len(adults))), n_households)
    candidates = np.sort(rng.choice(adults, n_partners, replace=False))
    head_weight = np.where(head_age >= params.partner_min_age_years - 5, 1.0, 1e-6)
    partnered = weighted_sample_without_replacement(head_weight, len(candidates), rng)
    by_age_candidates = np.argsort(age_years[candidates] + rng.normal(0, 3, len(candidates)))
    by_age_heads = np.argsort(head_age[partnered] + rng.normal(0, 3, len(partnered)))
    household[candidates[by_age_candidates]] = partnered[by_age_heads]
    has_partner = np.zeros(n_households, dtype=bool)
    has_partner[partnered] = True
    return has_partner


def _join_dependants(
    age_years: np.ndarray,
    household: np.ndarray,
    head_age: np.ndarray,
    has_partner: np.ndarray,
    params: HouseholdFormation,
    rng: np.random.Generator,
) -> None:
    """Place everyone still without a household in a family about a generation older.

    Families are drawn among the heads (weighted towards ``family_head_age_peak_years``
    and towards couples), one per ``children_per_family`` dependants. Each family takes one
    dependant plus a random share of the rest (so 1, 2, 3+ children in realistic proportions).
    Dependants sorted by the parent age they want (own age + a drawn generation gap) are
    handed out in that order to families sorted by head age, so ages match by rank.
    """
    dependants = np.flatnonzero(household < 0)
    if len(dependants) == 0:
        return
    n_families = int(np.clip(round(len(dependants) / params.children_per_family), 1, len(head_age)))
    z = (head_age - params.family_head_age_peak_years) / params.family_head_age_sd_years
    family_weight = np.exp(-0.5 * z**2) * (1.0 + has_partner)
    families = weighted_sample_without_replacement(family_weight, n_families, rng)
    families = families[np.argsort(head_age[families] + rng.random(n_families), kind="stable")]
    extra = rng.multinomial(
        max(len(dependants) - n_families, 0), np.full(n_families, 1 / n_families)
    )
    capacity = np.where(np.arange(n_families) < len(dependants), 1, 0) + extra

    gap = np.round(
        rng.normal(
            params.parent_age_gap_mean_years, params.parent_age_gap_sd_years, len(dependants)
        )
    )
    wanted_parent_age = age_years[dependants] + np.maximum(gap, params.parent_age_gap_min_years)
    by_wanted_age = dependants[np.argsort(wanted_parent_age + rng.random(len(dependants)))]
    family_of_rank = np.repeat(np.arange(n_families), capacity)
    household[by_wanted_age] = families[family_of_rank]


def persons_per_household(
    known: pd.Series, child_share: pd.Series, elderly_share: pd.Series
) -> tuple[pd.Series, dict[str, float]]:
    """Persons per household for every municipality, filling the missing ones.

    ``known`` holds the statistic where SSB published it (indexed by municipality number).
    The others get the value of a least-squares fit on the known ones,
    ``size = b0 + b1 * share aged 0-17 + b2 * share aged 67+``: household size follows the
    age structure (children raise it, old persons living alone lower it). Returns the filled
    series and the fit (coefficients and R^2) for the documentation.
    """
    codes = child_share.index
    fitted_on = known.index.intersection(codes)
    design = np.column_stack(
        [np.ones(len(codes)), child_share.to_numpy(float), elderly_share.to_numpy(float)]
    )
    known_rows = codes.get_indexer(fitted_on)
    y = known.loc[fitted_on].to_numpy(float)
    coefficients, *_ = np.linalg.lstsq(design[known_rows], y, rcond=None)
    predicted = design @ coefficients
    residual = y - predicted[known_rows]
    r_squared = 1 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum())
    filled = pd.Series(predicted, index=codes)
    filled.loc[fitted_on] = y
    fit = {
        "intercept": float(coefficients[0]),
        "per_child_share": float(coefficients[1]),
        "per_elderly_share": float(coefficients[2]),
        "r_squared": r_squared,
        "n_known": float(len(fitted_on)),
    }
    return filled, fit
