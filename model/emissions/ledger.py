"""The emissions ledger outside road traffic: Miljødirektoratet's sectors as trends.

``OtherSectors`` holds, for every (sector, source) of Miljødirektoratet's municipal
statistics other than road traffic, Oslo's base-year emissions, its yearly trend and its
driver (population, jobs or the site). A municipality's row for a year is

    base(m, source) * (1 + trend) ** (year - base_year) * driver(m, year) / driver(m, base)

where ``base(m, source)`` is the statistic in Oslo and, elsewhere, Oslo's emission per
resident or per job times the municipality's residents or jobs ("scaled_from_oslo").
Sources tied to a site are kept in Oslo only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.bundle import Bundle, BundleError
from model.emissions.parameters import ROAD_SECTOR, LedgerParameters
from model.tables import Block

EMISSIONS_FILE = "emissions_oslo.csv"
OSLO = "0301"
LEDGER_COLUMNS = ("year", "kommunenummer", "sector", "source", "co2e_tonnes", "method")
STATISTIC = "statistic"  # the base year's official value itself (Oslo)
MODEL = "model"  # computed bottom-up (road traffic)
TREND = "trend"  # Oslo's statistic moved by its trend and driver
SCALED = "scaled_from_oslo"  # another municipality, from Oslo's intensity


def read_statistics(bundle: Bundle) -> pd.DataFrame:
    """Miljødirektoratet's figures in the bundle, summed over gases: year, sector, source."""
    table = bundle[EMISSIONS_FILE]
    if not (table["kommunenummer"] == OSLO).any():
        raise BundleError(f"{bundle.path / EMISSIONS_FILE}: column 'kommunenummer' has no {OSLO}")
    return (
        table.groupby(["kommunenummer", "year", "sector", "source"], as_index=False)["tonnes_co2e"]
        .sum()
        .rename(columns={"tonnes_co2e": "co2e_tonnes"})
    )


@dataclass(frozen=True)
class OtherSectors:
    """Oslo's non-road sources: base values, trends and drivers."""

    sector: tuple[str, ...]
    source: tuple[str, ...]
    oslo_base_co2e_tonnes: np.ndarray
    trend_per_year: np.ndarray
    driver: tuple[str, ...]
    base_year: int

    def blocks(
        self,
        year: int,
        codes: tuple[str, ...],
        population: np.ndarray,
        jobs: np.ndarray,
        base_population: np.ndarray,
        base_jobs: np.ndarray,
    ) -> list[Block]:
        """Ledger rows of every municipality and non-road source in ``year``, as blocks."""
        oslo = codes.index(OSLO) if OSLO in codes else None
        growth = (1.0 + self.trend_per_year) ** (year - self.base_year)
        blocks = []
        for k, driver in enumerate(self.driver):
            if driver == "site":
                if oslo is None:
                    continue
                values = np.zeros(len(codes))
                values[oslo] = self.oslo_base_co2e_tonnes[k] * growth[k]
            else:
                now, base = (
                    (population, base_population)
                    if driver == "population"
                    else (
                        jobs,
                        base_jobs,
                    )
                )
                if oslo is None or base[oslo] <= 0:
                    continue
                intensity = self.oslo_base_co2e_tonnes[k] / base[oslo]
                values = intensity * now * growth[k]
            method = np.full(len(codes), SCALED, dtype=object)
            if oslo is not None:
                method[oslo] = STATISTIC if year == self.base_year else TREND
            keep = values > 0
            blocks.append(
                {
                    "year": np.int32(year),
                    "kommunenummer": np.asarray(codes)[keep],
                    "sector": self.sector[k],
                    "source": self.source[k],
                    "co2e_tonnes": values[keep],
                    "method": method[keep],
                }
            )
        return blocks


def other_sectors(
    statistics: pd.DataFrame, params: LedgerParameters, base_year: int
) -> OtherSectors:
    """Oslo's non-road sources with their fitted trends (see ``emissions.toml``)."""
    oslo = statistics[(statistics["kommunenummer"] == OSLO) & (statistics["sector"] != ROAD_SECTOR)]
    unknown = sorted(set(oslo["sector"]) - set(params.sector_driver))
    if unknown:
        raise BundleError(
            f"{EMISSIONS_FILE}: sector '{unknown[0]}' has no driver in emissions.toml "
            "[sector_driver]"
        )
    series = oslo.pivot_table(
        index=["sector", "source"], columns="year", values="co2e_tonnes", aggfunc="sum"
    ).fillna(0.0)
    if base_year not in series.columns:
        raise BundleError(f"{EMISSIONS_FILE}: no rows for the base year {base_year}")
    window = [y for y in series.columns if params.trend_first_year <= y <= params.trend_last_year]
    trends = []
    for _, row in series.iterrows():
        values = row[window].to_numpy(float)
        positive = values > 0
        if positive.sum() < 2:
            trends.append(0.0)
            continue
        slope = np.polyfit(np.asarray(window, dtype=float)[positive], np.log(values[positive]), 1)[
            0
        ]
        trends.append(
            float(np.clip(np.expm1(slope), params.trend_min_per_year, params.trend_max_per_year))
        )
    base = series[base_year].to_numpy(float)
    keep = base > 0
    sectors = [s for s, _ in series.index]
    return OtherSectors(
        sector=tuple(np.asarray(sectors, dtype=object)[keep]),
        source=tuple(np.asarray([s for _, s in series.index], dtype=object)[keep]),
        oslo_base_co2e_tonnes=base[keep],
        trend_per_year=np.asarray(trends)[keep],
        driver=tuple(params.sector_driver[s] for s in np.asarray(sectors)[keep]),
        base_year=base_year,
    )


def ratio_to_reference_year(
    statistics: pd.DataFrame, reference_year: int, base_year: int
) -> dict[tuple[str, str], float]:
    """Oslo's emissions in the reference year over the base year, by (sector, source)."""
    oslo = statistics[statistics["kommunenummer"] == OSLO]
    by_year = oslo.pivot_table(
        index=["sector", "source"], columns="year", values="co2e_tonnes", aggfunc="sum"
    ).fillna(0.0)
    if reference_year not in by_year.columns:
        raise BundleError(f"{EMISSIONS_FILE}: no rows for the reference year {reference_year}")
    ratios = {}
    for key, row in by_year.iterrows():
        base = row[base_year]
        ratios[key] = float(row[reference_year] / base) if base > 0 else 1.0
    return ratios
