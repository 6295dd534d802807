"""A municipality's climate budget: target path, measure path, reference path and the gap.

Norwegian municipalities steer by climate budgets (klimabudsjett): the reference path is
what happens without new measures (here: the scenario's nullalternativ, the baseline run),
the measure path what happens with them (the scenario itself), and the target path the cut
the municipality has promised relative to a reference year. The gap is measure minus target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClimateBudget:
    """Target path of one municipality and its yearly figures (tonnes CO2e)."""

    reference_year: int
    reference_year_co2e_tonnes: float
    target_years: tuple[int, ...]
    cut_share: tuple[float, ...]
    years: list[int] = field(default_factory=list)
    measure_co2e_tonnes: list[float] = field(default_factory=list)
    reference_co2e_tonnes: list[float] = field(default_factory=list)

    def target_co2e_tonnes(self, year: int) -> float:
        """The target for ``year``: linear from the reference year through the cuts."""
        years = [self.reference_year, *self.target_years]
        levels = [1.0, *(1.0 - cut for cut in self.cut_share)]
        return float(np.interp(year, years, levels) * self.reference_year_co2e_tonnes)

    def record(self, year: int, measure_co2e_tonnes: float, reference_co2e_tonnes: float) -> None:
        """Keep the year's emissions under the scenario and under the baseline."""
        self.years.append(year)
        self.measure_co2e_tonnes.append(measure_co2e_tonnes)
        self.reference_co2e_tonnes.append(reference_co2e_tonnes)

    def gap_co2e_tonnes(self, year: int) -> float:
        """Measure path minus target path in ``year`` (> 0: above the target)."""
        measure = self.measure_co2e_tonnes[self.years.index(year)]
        return measure - self.target_co2e_tonnes(year)
