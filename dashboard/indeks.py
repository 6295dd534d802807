"""The Indeks Osloregionen: the region's indicators over time for an area.

An area is the whole region, a sub-region (the regional councils through which the
municipalities sit in Osloregionen, ``data/reporting/subregions.csv``) or one municipality.
A stored run's indicators are kept per municipality; an area's value is the sum over its
municipalities for counts, and is recomputed from its parts for shares, indices and prices
(a sum of shares means nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

REPORTING_DIR = Path(__file__).resolve().parents[1] / "data" / "reporting"
SUBREGION_PREFIX = "delregion:"
REGION = "region"
OSLO = "0301"
MODES = ("car", "pt", "bike", "walk")
MIN_GROWTH_SHARE = 0.01  # growth shares start once the region has grown by 1 %


@dataclass(frozen=True)
class Panel:
    """One small chart of the Indeks: titled lines, some dashed, and an optional target."""

    title: str
    lines: dict[str, pd.Series]
    dashed: frozenset[str] = field(default_factory=frozenset)
    target: float | None = None


@lru_cache(maxsize=1)
def subregions() -> dict[str, tuple[str, ...]]:
    """Sub-region name -> its municipality numbers (a municipality may sit in two)."""
    table = pd.read_csv(REPORTING_DIR / "subregions.csv", dtype=str)
    return {
        name: tuple(group["kommunenummer"]) for name, group in table.groupby("subregion", sort=True)
    }


@lru_cache(maxsize=1)
def _norway_anchors() -> pd.Series:
    table = pd.read_csv(REPORTING_DIR / "norway_population.csv")
    return table.set_index("year")["population"].astype(float)


def norway_population(years: pd.Index) -> pd.Series:
    """Norway's population on 1 January of ``years`` (SSB; constant growth between anchors)."""
    anchors = _norway_anchors()
    log_values = np.interp(years, anchors.index, np.log(anchors.to_numpy()))
    return pd.Series(np.exp(log_values), index=years)


def indicator_frame(indicators: pd.DataFrame) -> pd.DataFrame:
    """A run's indicator table as one column per (indicator, area), one row per year."""
    return indicators.pivot_table(
        index="year", columns=["indicator", "kommunenummer"], values="value", aggfunc="first"
    ).sort_index(axis=1)


def area_codes(area: str, frame: pd.DataFrame) -> list[str]:
    """The municipality numbers of an area that the run has ("region": all of them)."""
    present = [code for code in frame["population"].columns if code != REGION]
    if area == REGION:
        return present
    if area.startswith(SUBREGION_PREFIX):
        members = subregions().get(area.removeprefix(SUBREGION_PREFIX), ())
        return [code for code in present if code in members]
    return [area] if area in present else []


def total(frame: pd.DataFrame, indicator: str, codes: list[str]) -> pd.Series:
    """The sum of a count indicator over the municipalities ``codes``, by year."""
    return frame[indicator][codes].sum(axis=1, min_count=1)


def weighted_mean(frame: pd.DataFrame, indicator: str, weight: str, codes: list[str]) -> pd.Series:
    """A per-municipality mean or share, weighted by another indicator (e.g. dwellings)."""
    values, weights = frame[indicator][codes], frame[weight][codes]
    present = values.notna() & (weights > 0)
    numerator = (values * weights).where(present).sum(axis=1)
    return numerator / weights.where(present).sum(axis=1)


def car_index(frame: pd.DataFrame, codes: list[str]) -> pd.Series:
    """Commuting car vehicle-km of an area relative to its first year without levers.

    Each municipality's base is its vehicle-km over its index; the area's index is the
    sum of vehicle-km over the sum of bases.
    """
    vehicle_km = frame["commute_car_vehicle_km"][codes]
    base = vehicle_km / frame["car_vehicle_km_index"][codes]
    return vehicle_km.sum(axis=1) / base.sum(axis=1, min_count=1)


def growth_share(frame: pd.DataFrame, codes: list[str], region: list[str]) -> pd.Series:
    """The area's share of the region's population growth since the first year (0-1).

    Years in which the region has grown by less than ``MIN_GROWTH_SHARE`` of its first
    year's population are left out: a share of almost no growth is noise.
    """
    population = total(frame, "population", codes)
    regional = total(frame, "population", region)
    growth = regional - regional.iloc[0]
    enough = growth.abs() >= MIN_GROWTH_SHARE * regional.iloc[0]
    return ((population - population.iloc[0]) / growth)[enough]


def mode_shares(frame: pd.DataFrame, codes: list[str]) -> dict[str, pd.Series]:
    """Commute trips by mode as shares of all commute trips (0-1), by year."""
    trips = {mode: total(frame, f"commute_trips_{mode}", codes) for mode in MODES}
    everything = sum(trips.values())
    return {mode: values / everything for mode, values in trips.items()}


def emissions_by_sector(emissions: pd.DataFrame, codes: list[str]) -> dict[str, pd.Series]:
    """Tonnes CO2e of an area by sector and year (``emissions`` as a run stores it)."""
    here = emissions[emissions["kommunenummer"].isin(codes)]
    table = here.pivot_table(index="year", columns="sector", values="co2e_tonnes", aggfunc="sum")
    order = table.sum().sort_values(ascending=False).index
    return {str(sector): table[sector] for sector in order}


def panels(frame: pd.DataFrame, emissions: pd.DataFrame, area: str) -> list[Panel]:
    """The Indeks of one area, one chart per indicator.

    Population and share of Norway, jobs, growth, commuting, mode shares, car vehicle-km
    against the zero-growth target, prices, emissions by sector, the zero-emission share of
    new heavy vehicles and power demand. Shares are in %, the vehicle-km index is 100 in
    the first year; titles and line names (not the emission sectors) are keys of section
    ``indeks`` of ``dashboard/strings.toml``.
    """
    codes = area_codes(area, frame)
    if not codes:
        return []
    region = area_codes(REGION, frame)
    population = total(frame, "population", codes)
    years = population.index
    if area == REGION:
        growth = {"outside_oslo": 100 * (1 - growth_share(frame, [OSLO], region))}
        commuting = {"commuters": total(frame, "out_commuters", codes)}
    else:
        growth = {"share_of_region": 100 * growth_share(frame, codes, region)}
        commuting = {
            "in_commuters": total(frame, "in_commuters", codes),
            "out_commuters": total(frame, "out_commuters", codes),
        }
    sectors = emissions_by_sector(emissions, codes)
    return [
        Panel(
            "population",
            {
                "model": population,
                "ssb_projection": total(frame, "population_projected_ssb", codes),
            },
            dashed=frozenset({"ssb_projection"}),
        ),
        Panel("share_of_norway", {"model": 100 * population / norway_population(years)}),
        Panel("jobs", {"model": total(frame, "jobs", codes)}),
        Panel("growth_share", growth),
        Panel("commuting", commuting),
        Panel("mode_shares", {m: 100 * s for m, s in mode_shares(frame, codes).items()}),
        Panel("car_index", {"model": 100 * car_index(frame, codes)}, target=100.0),
        Panel(
            "price", {"model": weighted_mean(frame, "mean_price_nok_per_m2", "dwellings", codes)}
        ),
        Panel("emissions", {name: values / 1000 for name, values in sectors.items()}),
        Panel(
            "zero_emission_heavy",
            {
                "model": 100
                * weighted_mean(frame, "zero_emission_share_new_heavy", "vehicle_km_heavy", codes)
            },
        ),
        Panel("power", {"model": total(frame, "power_demand_mwh", codes) / 1000}),
    ]
