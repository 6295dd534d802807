"""Municipalities: the ~65 local governments of the region, as Mesa agents.

A municipality knows its number, name and land, keeps the figures it reports each year, and
holds the zoning of its land cells: each year it renews the capacity its plan allows, so
that developers find land where the plan wants growth, and it tracks its climate budget
(design guide step 10).
"""

from __future__ import annotations

import mesa
import numpy as np

from agents.climate_budget import ClimateBudget
from agents.zoning import Zoning


class Municipality(mesa.Agent):
    """One municipality (kommune) of the region."""

    def __init__(
        self,
        model: mesa.Model,
        index: int,
        kommunenummer: str,
        name: str,
        county: str,
        area_km2: float,
    ) -> None:
        """Create the municipality with its row ``index`` in the model's columns."""
        super().__init__(model)
        self.index = index
        self.kommunenummer = kommunenummer
        self.name = name
        self.county = county
        self.area_km2 = area_km2
        self.cells = np.zeros(0, dtype=np.int64)  # its land cell ids
        self.figures: dict[str, float] = {}
        self.climate_budget: ClimateBudget | None = None  # set by the emissions model

    @property
    def land_cells(self) -> int:
        """Number of 1 km land cells of the municipality."""
        return len(self.cells)

    def zoned_capacity(self, zoning: Zoning) -> float:
        """Dwellings that may still be built in the municipality (full-population units)."""
        return float(zoning.capacity_dwellings[self.cells].sum())

    def renew_zoning(self, zoning: Zoning, renewal_share: float) -> float:
        """Add back ``renewal_share`` of the plan's capacity in every cell, up to the plan.

        Cells the plan leaves unzoned stay unzoned (so levers such as area neutrality and
        station densification keep their shape). Returns the dwellings re-zoned.
        """
        cells = self.cells
        before = zoning.capacity_dwellings[cells]
        plan = zoning.planned_dwellings[cells]
        after = np.minimum(plan, before + renewal_share * plan)
        zoning.capacity_dwellings[cells] = np.maximum(before, after)
        return float((zoning.capacity_dwellings[cells] - before).sum())

    def record(self, figures: dict[str, float]) -> None:
        """Keep this year's figures (population, households, jobs, ...)."""
        self.figures = dict(figures)

    @property
    def population(self) -> float:
        """Persons living here on 1 January of the current year, full-population units."""
        return self.figures.get("population", 0.0)

    def __repr__(self) -> str:
        return f"Municipality({self.kommunenummer} {self.name})"
