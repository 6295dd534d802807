"""Scenario levers of energy stations, the grid and climate targets: validation and building.

* ``[energy_stations]``: ``count`` (stations, 0-200) placed by ``siting`` (corridors |
  logistics_hubs | grid_capacity) from ``start_year`` (2024-2050); and/or a list of
  ``[[energy_stations.station]]`` tables with ``name``, ``lat``, ``lon`` (WGS84 degrees),
  ``start_year`` and optionally ``carriers`` (electricity, hydrogen, biogas),
  ``charge_points``, ``power_mw``, ``hydrogen_kg_per_day``, ``biogas_kg_per_day``
  (defaults in ``data/parameters/energy_stations.toml``);
* ``[grid]``: ``headroom_mw`` (a table of municipality number = MW of headroom for new
  transport loads in the base year, >= 0) and ``headroom_growth_per_year`` (-0.5-1);
* ``[climate]``: ``<municipality number> = { target_years = [...], cut_share = [...] }``
  (years 2025-2050 in rising order, cuts 0-1 relative to 2009).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from model.bundle import DEFAULT_BUNDLE_DIR
from model.emissions.parameters import SITING_RULES, STATION_CARRIERS, StationSpec
from model.emissions.stations import EnergyLevers, StationPlan
from model.parameters import PARAMETERS_DIR, build_parameters, read_parameter_file

FIRST_YEAR, LAST_YEAR = 2024, 2050
STATION_FIELDS = {
    "name": str,
    "lat": (int, float),
    "lon": (int, float),
    "start_year": int,
    "carriers": list,
    "charge_points": int,
    "power_mw": (int, float),
    "hydrogen_kg_per_day": (int, float),
    "biogas_kg_per_day": (int, float),
}
# Latitude and longitude of a box around the six counties of the region.
LAT_RANGE, LON_RANGE = (58.5, 61.5), (8.0, 13.0)


class LeverError(ValueError):
    """A lever of these tables is invalid; the message names the field."""


def known_municipalities() -> set[str]:
    """Municipality numbers of the shipped bundle."""
    table = pd.read_csv(DEFAULT_BUNDLE_DIR / "municipalities.csv", dtype=str)
    return set(table["kommunenummer"])


def _number(where: str, value: Any, low: float, high: float, whole: bool = False) -> float:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise LeverError(f"field '{where}' is {value!r}; allowed: {kind} from {low:g} to {high:g}")
    return value


def _municipality(where: str, code: str, known: set[str]) -> str:
    if code not in known:
        raise LeverError(
            f"field '{where}' names municipality {code!r}, which is unknown; allowed: a "
            "4-digit municipality number of data/base_2024/municipalities.csv"
        )
    return code


def default_station_spec(folder: Path = PARAMETERS_DIR) -> StationSpec:
    """The capacity a station gets where the scenario does not say."""
    path = folder / "energy_stations.toml"
    table = read_parameter_file(path)["default_station"]
    return build_parameters(StationSpec, table, path, "default_station.")


def _station(i: int, table: Any, default: StationSpec) -> StationPlan:
    where = f"energy_stations.station[{i}]"
    if not isinstance(table, dict):
        raise LeverError(f"field '{where}' is {table!r}; allowed: a table")
    for field, value in table.items():
        if field not in STATION_FIELDS:
            raise LeverError(
                f"field '{where}.{field}' is unknown; allowed: {', '.join(STATION_FIELDS)}"
            )
        kinds = STATION_FIELDS[field]
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if isinstance(value, bool) or not isinstance(value, kinds):
            allowed = " or ".join(kind.__name__ for kind in kinds)
            raise LeverError(f"field '{where}.{field}' is {value!r}; allowed: {allowed}")
    for field in ("name", "lat", "lon", "start_year"):
        if field not in table:
            raise LeverError(f"field '{where}.{field}' missing")
    _number(f"{where}.lat", table["lat"], *LAT_RANGE)
    _number(f"{where}.lon", table["lon"], *LON_RANGE)
    _number(f"{where}.start_year", table["start_year"], FIRST_YEAR, LAST_YEAR, whole=True)
    carriers = tuple(table.get("carriers", default.carriers))
    if not carriers or any(c not in STATION_CARRIERS for c in carriers):
        raise LeverError(
            f"field '{where}.carriers' is {list(carriers)!r}; allowed: one or more of "
            f"{', '.join(STATION_CARRIERS)}"
        )
    spec = replace(
        default,
        carriers=carriers,
        charge_points=int(
            _number(
                f"{where}.charge_points",
                table.get("charge_points", default.charge_points),
                0,
                500,
                whole=True,
            )
        ),
        power_mw=float(
            _number(f"{where}.power_mw", table.get("power_mw", default.power_mw), 0, 200)
        ),
        hydrogen_kg_per_day=float(
            _number(
                f"{where}.hydrogen_kg_per_day",
                table.get("hydrogen_kg_per_day", default.hydrogen_kg_per_day),
                0,
                1e5,
            )
        ),
        biogas_kg_per_day=float(
            _number(
                f"{where}.biogas_kg_per_day",
                table.get("biogas_kg_per_day", default.biogas_kg_per_day),
                0,
                1e5,
            )
        ),
    )
    return StationPlan(
        str(table["name"]),
        float(table["lat"]),
        float(table["lon"]),
        int(table["start_year"]),
        spec,
    )


def energy_levers(scenario: dict[str, Any]) -> EnergyLevers:
    """Build and check the energy, grid and climate levers; raise ``LeverError`` if invalid."""
    stations_table = scenario.get("energy_stations", {})
    grid = scenario.get("grid", {})
    climate = scenario.get("climate", {})
    for name, table, allowed in (
        ("energy_stations", stations_table, ("count", "siting", "start_year", "station")),
        ("grid", grid, ("headroom_mw", "headroom_growth_per_year")),
    ):
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise LeverError(
                f"field '{name}.{unknown[0]}' is unknown; allowed: {', '.join(allowed)}"
            )
    count = int(_number("energy_stations.count", stations_table.get("count", 0), 0, 200, True))
    siting = stations_table.get("siting", "corridors")
    if siting not in SITING_RULES:
        raise LeverError(
            f"field 'energy_stations.siting' is {siting!r}; allowed: {', '.join(SITING_RULES)}"
        )
    start = int(
        _number(
            "energy_stations.start_year",
            stations_table.get("start_year", 2026),
            FIRST_YEAR,
            LAST_YEAR,
            True,
        )
    )
    plans = stations_table.get("station", [])
    if not isinstance(plans, list):
        raise LeverError(f"field 'energy_stations.station' is {plans!r}; allowed: a list of tables")
    default = default_station_spec()
    stations = tuple(_station(i, plan, default) for i, plan in enumerate(plans))
    names = [s.name for s in stations]
    if len(set(names)) != len(names):
        raise LeverError("field 'energy_stations.station' repeats a name; allowed: unique names")
    known = known_municipalities() if grid or climate else set()
    headroom = grid.get("headroom_mw", {})
    if not isinstance(headroom, dict):
        raise LeverError(f"field 'grid.headroom_mw' is {headroom!r}; allowed: a table")
    headroom_mw = {
        _municipality(f"grid.headroom_mw.{code}", code, known): float(
            _number(f"grid.headroom_mw.{code}", mw, 0, 1e5)
        )
        for code, mw in headroom.items()
    }
    growth = grid.get("headroom_growth_per_year")
    if growth is not None:
        growth = float(_number("grid.headroom_growth_per_year", growth, -0.5, 1.0))
    return EnergyLevers(
        stations=stations,
        station_count=count,
        siting=siting,
        siting_start_year=start,
        headroom_mw=headroom_mw,
        headroom_growth_per_year=growth,
        climate_targets={
            _municipality(f"climate.{code}", code, known): _target(code, table)
            for code, table in climate.items()
        },
    )


def _target(code: str, table: Any) -> tuple[tuple[int, ...], tuple[float, ...]]:
    where = f"climate.{code}"
    if not isinstance(table, dict) or set(table) != {"target_years", "cut_share"}:
        raise LeverError(
            f"field '{where}' is {table!r}; allowed: a table with target_years and cut_share"
        )
    years, cuts = table["target_years"], table["cut_share"]
    if not isinstance(years, list) or not isinstance(cuts, list) or len(years) != len(cuts):
        raise LeverError(
            f"field '{where}' needs lists target_years and cut_share of the same length"
        )
    years = [int(_number(f"{where}.target_years", y, 2025, LAST_YEAR, True)) for y in years]
    if not years or years != sorted(set(years)):
        raise LeverError(f"field '{where}.target_years' is {years}; allowed: rising years")
    cuts = [float(_number(f"{where}.cut_share", c, 0.0, 1.0)) for c in cuts]
    return tuple(years), tuple(cuts)
