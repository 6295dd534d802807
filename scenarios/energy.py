"""Building the energy-station, grid and climate levers of a (validated) scenario.

* ``[energy_stations]``: ``count`` stations placed by ``siting`` from ``start_year``; and/or
  a list of ``[[energy_stations.station]]`` tables (name, site, opening year, capacity);
* ``[grid]``: ``headroom_mw`` by municipality and ``headroom_growth_per_year``;
* ``[climate]``: ``<municipality number> = { target_years = [...], cut_share = [...] }``.

Units, ranges and defaults are in the lever catalogue (``scenarios/levers.toml``), which
also checks them when the scenario is loaded; this module only turns the checked tables into
the model's :class:`EnergyLevers`. A station's capacity defaults to ``[default_station]`` of
``data/parameters/energy_stations.toml``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from model.emissions.parameters import StationParameters, StationSpec
from model.emissions.stations import EnergyLevers, StationPlan
from model.parameters import PARAMETERS_DIR, load_parameters
from scenarios.levers import load_catalogue


def default_station_spec(folder: Path = PARAMETERS_DIR) -> StationSpec:
    """The capacity a station gets where the scenario does not say."""
    return load_parameters(StationParameters, folder).default_station


def _station(table: dict[str, Any], default: StationSpec) -> StationPlan:
    spec = replace(
        default,
        carriers=tuple(table.get("carriers", default.carriers)),
        charge_points=int(table.get("charge_points", default.charge_points)),
        power_mw=float(table.get("power_mw", default.power_mw)),
        hydrogen_kg_per_day=float(table.get("hydrogen_kg_per_day", default.hydrogen_kg_per_day)),
        biogas_kg_per_day=float(table.get("biogas_kg_per_day", default.biogas_kg_per_day)),
    )
    return StationPlan(
        str(table["name"]),
        float(table["lat"]),
        float(table["lon"]),
        int(table["start_year"]),
        spec,
    )


def energy_levers(scenario: dict[str, Any]) -> EnergyLevers:
    """The energy, grid and climate levers of a scenario checked against the catalogue."""
    catalogue = load_catalogue()
    stations_table = scenario.get("energy_stations", {})
    grid = scenario.get("grid", {})
    default = default_station_spec()
    growth = grid.get(
        "headroom_growth_per_year", catalogue.default("grid.headroom_growth_per_year")
    )
    return EnergyLevers(
        stations=tuple(_station(plan, default) for plan in stations_table.get("station", [])),
        station_count=int(stations_table.get("count", catalogue.default("energy_stations.count"))),
        siting=stations_table.get("siting", catalogue.default("energy_stations.siting")),
        siting_start_year=int(
            stations_table.get("start_year", catalogue.default("energy_stations.start_year"))
        ),
        headroom_mw={code: float(mw) for code, mw in grid.get("headroom_mw", {}).items()},
        headroom_growth_per_year=float(growth),
        climate_targets={
            code: (
                tuple(int(year) for year in table["target_years"]),
                tuple(float(cut) for cut in table["cut_share"]),
            )
            for code, table in scenario.get("climate", {}).items()
        },
    )
