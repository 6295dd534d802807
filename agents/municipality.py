"""Municipalities: the ~65 local governments of the region, as Mesa agents.

A municipality knows its number, name and land, and keeps the figures it reports each year.
Later sub-models give it decisions (zoning, climate budget); for now it records the state of
its population so that it can be asked about it like a planner would.
"""

from __future__ import annotations

import mesa


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
        self.land_cells = 0
        self.figures: dict[str, float] = {}

    def record(self, figures: dict[str, float]) -> None:
        """Keep this year's figures (population, households, jobs, ...)."""
        self.figures = dict(figures)

    @property
    def population(self) -> float:
        """Persons living here on 1 January of the current year, full-population units."""
        return self.figures.get("population", 0.0)

    def __repr__(self) -> str:
        return f"Municipality({self.kommunenummer} {self.name})"
