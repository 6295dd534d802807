"""Indicators per municipality and year, kept in long form for the results store.

Stocks of year Y describe 1 January of Y (so the base year holds the base statistics);
flows of year Y are what happened during Y. Every value is in full-population units
(sampled rows multiplied by their weights). The region total is stored with
``kommunenummer = "region"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from agents.population import NO_ROW, Dwellings, Firms, Households, Persons
from model.tables import Block, frame_from_blocks

REGION = "region"
INDICATOR_COLUMNS = ("year", "kommunenummer", "indicator", "value", "unit")

# Indicator name -> unit. Stocks on 1 January; flows during the year.
STOCKS = {
    "population": "persons",
    "persons_0_17": "persons",
    "persons_18_66": "persons",
    "persons_67_plus": "persons",
    "households": "households",
    "employed": "persons",
    "jobs": "jobs",
    "dwellings": "dwellings",
    "vacant_dwellings": "dwellings",
}
FLOWS = {
    "births": "persons",
    "deaths": "persons",
    "households_dissolved": "households",
    "households_formed": "households",
    "leavers_without_dwelling": "persons",
    "couples_formed": "households",
    "out_migrants": "persons",
    "out_migrant_households": "households",
    "in_migrants": "persons",
    "in_migrant_households": "households",
    "moved_in": "persons",
    "moved_out": "persons",
    "households_moved": "households",
    "refugee_households_settled": "households",
    "refugees_settled": "persons",
    "price_change": "share",
    "in_migrants_planned": "persons",
    "in_migrants_without_dwelling": "persons",
    "growth_outside_oslo_share": "share",
    "dwellings_built": "dwellings",
    "cells_newly_built_up": "cells",
    "dwellings_rezoned": "dwellings",
    "out_commuters": "persons",
    "in_commuters": "persons",
    "jobs_created": "jobs",
    "jobs_lost": "jobs",
    "firms_opened": "establishments",
    "firms_closed": "establishments",
    "commute_trips_car": "trips",
    "commute_trips_pt": "trips",
    "commute_trips_rail": "trips",
    "commute_trips_bike": "trips",
    "commute_trips_walk": "trips",
    "commute_person_km_car": "person_km",
    "commute_person_km_pt": "person_km",
    "commute_person_km_bike": "person_km",
    "commute_person_km_walk": "person_km",
    "commute_car_vehicle_km": "vehicle_km",
    "car_vehicle_km_index": "ratio_to_first_year",
}


def stock_indicators(
    persons: Persons,
    households: Households,
    dwellings: Dwellings,
    firms: Firms,
    n_municipalities: int,
) -> dict[str, np.ndarray]:
    """The stock indicators of every municipality on 1 January."""
    municipality = households.municipality[persons.household]
    weight = households.weight[persons.household]
    age = persons.age_years

    def persons_where(mask: np.ndarray) -> np.ndarray:
        return np.bincount(municipality[mask], weight[mask], n_municipalities)

    vacant = dwellings.household == NO_ROW
    return {
        "population": np.bincount(municipality, weight, n_municipalities),
        "persons_0_17": persons_where(age < 18),
        "persons_18_66": persons_where((age >= 18) & (age < 67)),
        "persons_67_plus": persons_where(age >= 67),
        "households": np.bincount(households.municipality, households.weight, n_municipalities),
        "employed": persons_where(persons.employed),
        "jobs": np.bincount(firms.municipality, firms.jobs, n_municipalities).astype(float),
        "dwellings": np.bincount(dwellings.municipality, dwellings.weight, n_municipalities),
        "vacant_dwellings": np.bincount(
            dwellings.municipality[vacant], dwellings.weight[vacant], n_municipalities
        ),
    }


@dataclass
class IndicatorLog:
    """Collects indicator values year by year and turns them into the long table.

    Values are kept as column blocks (one per year and indicator, ``model.tables``) and
    become one table only when asked: building a small DataFrame per indicator and year cost
    about a second per run.
    """

    codes: tuple[str, ...]
    _parts: list[Block] = field(default_factory=list)

    def add(
        self,
        year: int,
        values: dict[str, np.ndarray],
        units: dict[str, str],
        region: dict[str, float] | None = None,
    ) -> None:
        """Add one year's values (one array per indicator, one entry per municipality).

        The region value is the sum over municipalities unless ``region`` gives it (shares
        and indices of the region are not sums).
        """
        region = region or {}
        codes = np.array([*self.codes, REGION])
        for name, per_municipality in values.items():
            # Weighted sums carry float noise (717709.9999997); 6 decimals is far below a person.
            per_municipality = np.round(np.asarray(per_municipality, dtype=float), 6)
            region_value = round(float(region.get(name, per_municipality.sum())), 6)
            self._add(year, codes, name, np.append(per_municipality, region_value), units[name])

    def add_region(self, year: int, values: dict[str, float], units: dict[str, str]) -> None:
        """Add values that exist only for the region as a whole."""
        for name, value in values.items():
            self._add(year, np.array([REGION]), name, [round(float(value), 6)], units[name])

    def _add(
        self, year: int, codes: np.ndarray, name: str, values: np.ndarray | list[float], unit: str
    ) -> None:
        self._parts.append(
            {
                "year": np.int32(year),
                "kommunenummer": codes,
                "indicator": name,
                "value": np.asarray(values, dtype=float),
                "unit": unit,
            }
        )

    def frame(self) -> pd.DataFrame:
        """All values so far, sorted by year, indicator and municipality (region last)."""
        if not self._parts:
            return pd.DataFrame(columns=list(INDICATOR_COLUMNS))
        table = frame_from_blocks(self._parts, INDICATOR_COLUMNS)
        order = table["kommunenummer"] == REGION
        table = table.assign(_region=order).sort_values(
            ["year", "indicator", "_region", "kommunenummer"], kind="stable"
        )
        return table.drop(columns="_region").reset_index(drop=True)
