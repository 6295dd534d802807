"""Housing and settlement indicators: vacancy, prices, crowding, segregation, refugees.

Each function returns one value per municipality and the value for the region as a whole
(shares and indices of the region are computed over all its households or cells, not
summed).

* Crowding: a household is crowded when it has more persons than rooms, with rooms
  estimated as floor area / ``M2_PER_ROOM`` (at least one); SSB's definition of
  "trangbodd" also uses rooms per person.
* Low income: household income per consumption unit (EU scale: 1 for the first adult, 0.5
  for other persons 14+, 0.3 for children) below 60 % of the regional median (the EU
  at-risk-of-poverty threshold).
* Segregation: the dissimilarity index D = 1/2 sum over cells |a_c / A - b_c / B| of
  low-income versus other households across the 1 km cells (0 = evenly spread, 1 = fully
  apart); the same index for refugee versus other households measures how concentrated
  refugee settlement is.
"""

from __future__ import annotations

import numpy as np

from agents.population import (
    NO_ROW,
    REFUGEE,
    Dwellings,
    Households,
    Persons,
    consumption_units,
    household_sizes,
)

M2_PER_ROOM = 25.0
LOW_INCOME_SHARE_OF_MEDIAN = 0.6

HOUSING_STOCKS = {
    "vacancy_rate": "share",
    "mean_price_nok_per_m2": "NOK per m2",
    "crowded_households_share": "share",
    "low_income_households_share": "share",
    "low_income_dissimilarity": "index 0-1",
    "refugee_households": "households",
    "refugee_dissimilarity": "index 0-1",
}


def housing_indicators(
    persons: Persons,
    households: Households,
    dwellings: Dwellings,
    cell_municipality: np.ndarray,
    n_municipalities: int,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Per-municipality values and region values of the housing stock indicators."""
    m_dwelling = dwellings.municipality
    w_dwelling = dwellings.weight
    vacant = dwellings.household == NO_ROW
    stock = np.bincount(m_dwelling, w_dwelling, n_municipalities)
    empty = np.bincount(m_dwelling[vacant], w_dwelling[vacant], n_municipalities)
    value = np.bincount(m_dwelling, w_dwelling * dwellings.price_nok_per_m2, n_municipalities)

    m_household = households.municipality
    w_household = households.weight
    size = household_sizes(persons, len(households))
    rooms = np.maximum(1, np.floor(dwellings.floor_area_m2[households.dwelling] / M2_PER_ROOM))
    crowded = size > rooms
    low = low_income(persons, households, size)
    refugee = households.origin == REFUGEE
    cell = dwellings.cell[households.dwelling]
    n_households = np.bincount(m_household, w_household, n_municipalities)

    def share(mask: np.ndarray) -> tuple[np.ndarray, float]:
        part = np.bincount(m_household[mask], w_household[mask], n_municipalities)
        return _ratio(part, n_households), _ratio(part.sum(), n_households.sum())

    per_municipality, region = {}, {}
    per_municipality["vacancy_rate"] = _ratio(empty, stock)
    region["vacancy_rate"] = _ratio(empty.sum(), stock.sum())
    per_municipality["mean_price_nok_per_m2"] = _ratio(value, stock)
    region["mean_price_nok_per_m2"] = _ratio(value.sum(), stock.sum())
    for name, mask in (("crowded_households_share", crowded), ("low_income_households_share", low)):
        per_municipality[name], region[name] = share(mask)
    for name, mask in (("low_income_dissimilarity", low), ("refugee_dissimilarity", refugee)):
        per_municipality[name], region[name] = dissimilarity(
            cell, mask, w_household, cell_municipality, n_municipalities
        )
    per_municipality["refugee_households"] = np.bincount(
        m_household[refugee], w_household[refugee], n_municipalities
    )
    region["refugee_households"] = float(per_municipality["refugee_households"].sum())
    return per_municipality, region


def vacancy_rate(dwellings: Dwellings, n_municipalities: int) -> np.ndarray:
    """Share of each municipality's dwellings that stand vacant (weighted)."""
    vacant = dwellings.household == NO_ROW
    stock = np.bincount(dwellings.municipality, dwellings.weight, n_municipalities)
    empty = np.bincount(dwellings.municipality[vacant], dwellings.weight[vacant], n_municipalities)
    return _ratio(empty, stock)


def low_income(persons: Persons, households: Households, size: np.ndarray) -> np.ndarray:
    """Households below 60 % of the regional median income per consumption unit."""
    per_unit = households.income_nok / consumption_units(persons, size)
    order = np.argsort(per_unit)
    person_weight = (households.weight * size)[order]
    median = per_unit[order][np.searchsorted(np.cumsum(person_weight), person_weight.sum() / 2)]
    return per_unit < LOW_INCOME_SHARE_OF_MEDIAN * median


def dissimilarity(
    cell: np.ndarray,
    group: np.ndarray,
    weight: np.ndarray,
    cell_municipality: np.ndarray,
    n_municipalities: int,
) -> tuple[np.ndarray, float]:
    """Dissimilarity index of ``group`` versus the rest across cells.

    Returns the index per municipality and for the region; NaN where the group or the rest
    is absent.
    """
    n_cells = len(cell_municipality)
    a = np.bincount(cell[group], weight[group], n_cells)
    b = np.bincount(cell[~group], weight[~group], n_cells)
    a_total = np.bincount(cell_municipality, a, n_municipalities)
    b_total = np.bincount(cell_municipality, b, n_municipalities)
    m = cell_municipality
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(a / a_total[m] - b / b_total[m])
        per_municipality = 0.5 * np.bincount(m, np.nan_to_num(gap), n_municipalities)
        per_municipality[(a_total == 0) | (b_total == 0)] = np.nan
        region = 0.5 * float(np.abs(a / a.sum() - b / b.sum()).sum())
    return per_municipality, region if a.sum() > 0 and b.sum() > 0 else float("nan")


def _ratio(numerator, denominator):
    return np.divide(
        numerator,
        denominator,
        out=np.zeros_like(np.asarray(numerator, dtype=float)),
        where=np.asarray(denominator) > 0,
    )
