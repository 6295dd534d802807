"""Scenario files: a name, a title and description for planners, and levers.

A scenario is a TOML file in ``scenarios/library/`` (found by name) or anywhere (found by
path). Loading resolves it to a plain dictionary; its hash identifies it in run manifests.
Levers so far (each table optional; a missing lever keeps the baseline's value):

* ``[settlement]``: ``rule`` (dispersed | concentrated | quotas),
  ``refugee_households_per_year`` (households per year, >= 0), ``quotas`` (a table of
  municipality number = households per year, for the rule ``quotas``);
* ``[rail]``: ``<project> = <opening year>`` (2024-2050) for a project of
  ``data/parameters/rail_projects.toml`` (Ringeriksbanen, InterCity, Rikstunnel and others);
* ``[construction]``: ``station_densification_radius_km`` (km, > 0),
  ``station_densification_extra_dwellings_per_cell`` (dwellings per km² of land, >= 0),
  ``multi_core_towns`` (list of municipality numbers), ``multi_core_share`` (0-1),
  ``area_neutrality_max_new_cells_per_year`` (cells per year, >= 0);
* ``[transport]``: ``road_price_nok_per_km`` (NOK per car km, 0-20, default 0),
  ``toll_ring_nok_per_passage`` (NOK, 0-500, default in ``mode_choice.toml``),
  ``pt_fare_factor`` (times today's fares, 0-5, default 1), ``pt_frequency_factor`` (times
  today's departures, 0.25-4, default 1), ``remote_work_share`` (share of working days at
  home, 0-0.9, default in ``mode_choice.toml``);
* ``[energy_stations]``, ``[grid]``, ``[climate]``: energy stations for heavy vehicles (a
  list, or a count and a siting rule), grid headroom by municipality, municipal climate
  targets (see ``scenarios/energy.py``).

A wrong type, an out-of-range value or an unknown lever is refused with the file, the field
and what is allowed. ``extends`` and the full lever catalogue come with the scenario issue.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from model.construction import ConstructionLevers
from model.emissions.stations import EnergyLevers
from model.migration import SettlementPolicy
from model.mode_choice import TransportLevers, check_levers
from model.transport.network import load_rail_projects
from scenarios.energy import LeverError
from scenarios.energy import energy_levers as build_energy_levers

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
ALLOWED_FIELDS = {
    "name": str,
    "title": dict,
    "description": dict,
    "settlement": dict,
    "construction": dict,
    "rail": dict,
    "transport": dict,
    "energy_stations": dict,
    "grid": dict,
    "climate": dict,
}
SETTLEMENT_LEVERS = {
    "rule": str,
    "refugee_households_per_year": (int, float),
    "quotas": dict,
}
CONSTRUCTION_LEVERS = {
    "station_densification_radius_km": (int, float),
    "station_densification_extra_dwellings_per_cell": (int, float),
    "multi_core_towns": list,
    "multi_core_share": (int, float),
    "area_neutrality_max_new_cells_per_year": int,
}
TRANSPORT_LEVERS = {
    "road_price_nok_per_km": (int, float),
    "toll_ring_nok_per_passage": (int, float),
    "pt_fare_factor": (int, float),
    "pt_frequency_factor": (int, float),
    "remote_work_share": (int, float),
}
LANGUAGES = ("nb", "en")


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and field."""


def scenario_path(name_or_path: str) -> Path:
    """The file of a library scenario name, or the given path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        return candidate
    return LIBRARY_DIR / f"{name_or_path}.toml"


def library_names() -> list[str]:
    """Names of the scenarios shipped in the library."""
    return sorted(path.stem for path in LIBRARY_DIR.glob("*.toml"))


def load_scenario(name_or_path: str) -> dict[str, Any]:
    """Read and validate a scenario; return it resolved as a plain dictionary."""
    path = scenario_path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            f"{path}: scenario not found; library scenarios: {', '.join(library_names())}"
        )
    try:
        scenario = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from error
    for field, value in scenario.items():
        if field not in ALLOWED_FIELDS:
            raise ScenarioError(
                f"{path}: field '{field}' is unknown; allowed: {', '.join(ALLOWED_FIELDS)}"
            )
        if not isinstance(value, ALLOWED_FIELDS[field]):
            kind = ALLOWED_FIELDS[field].__name__
            raise ScenarioError(f"{path}: field '{field}' is {value!r}; allowed: a {kind}")
    if "name" not in scenario:
        raise ScenarioError(f"{path}: field 'name' missing")
    for field in ("title", "description"):
        texts = scenario.get(field, {})
        for language, text in texts.items():
            if language not in LANGUAGES or not isinstance(text, str):
                raise ScenarioError(
                    f"{path}: field '{field}.{language}' is {text!r}; allowed: text in "
                    f"{' or '.join(LANGUAGES)}"
                )
    for table, levers in (
        ("settlement", SETTLEMENT_LEVERS),
        ("construction", CONSTRUCTION_LEVERS),
        ("transport", TRANSPORT_LEVERS),
    ):
        _check_levers(path, table, scenario.get(table, {}), levers)
    try:
        settlement_policy(scenario)
        construction_levers(scenario)
        check_levers(transport_levers(scenario), str(path))
    except ValueError as error:
        if str(error).startswith(str(path)):
            raise ScenarioError(str(error)) from error
        raise ScenarioError(f"{path}: {error}") from error
    _check_rail(path, scenario.get("rail", {}))
    try:
        build_energy_levers(scenario)
    except LeverError as error:
        raise ScenarioError(f"{path}: {error}") from error
    return scenario


def _check_levers(path: Path, table: str, values: dict[str, Any], levers: dict) -> None:
    for lever, value in values.items():
        if lever not in levers:
            raise ScenarioError(
                f"{path}: field '{table}.{lever}' is unknown; allowed: {', '.join(levers)}"
            )
        kinds = levers[lever] if isinstance(levers[lever], tuple) else (levers[lever],)
        if isinstance(value, bool) or not isinstance(value, kinds):
            allowed = " or ".join(kind.__name__ for kind in kinds)
            raise ScenarioError(f"{path}: field '{table}.{lever}' is {value!r}; allowed: {allowed}")


def _check_rail(path: Path, rail: dict[str, Any]) -> None:
    catalogue = load_rail_projects()
    for project, year in rail.items():
        if project not in catalogue:
            raise ScenarioError(
                f"{path}: field 'rail.{project}' is unknown; allowed: {', '.join(catalogue)}"
            )
        if isinstance(year, bool) or not isinstance(year, int) or not 2024 <= year <= 2050:
            raise ScenarioError(
                f"{path}: field 'rail.{project}' is {year!r}; allowed: an opening year "
                "from 2024 to 2050"
            )


def rail_projects(scenario: dict[str, Any]) -> dict[str, int]:
    """The rail projects a scenario opens, name -> opening year."""
    return dict(scenario.get("rail", {}))


def settlement_policy(scenario: dict[str, Any]) -> SettlementPolicy:
    """The refugee settlement lever of a scenario (defaults where not set)."""
    table = dict(scenario.get("settlement", {}))
    table["quotas"] = {str(k): float(v) for k, v in table.get("quotas", {}).items()}
    return SettlementPolicy(**table)


def transport_levers(scenario: dict[str, Any]) -> TransportLevers:
    """Road pricing, public transport fare and frequency, remote work (defaults where not set)."""
    return TransportLevers(**{k: float(v) for k, v in scenario.get("transport", {}).items()})


def energy_levers(scenario: dict[str, Any]) -> EnergyLevers:
    """Energy stations, grid headroom and climate targets of a scenario (none where not set)."""
    return build_energy_levers(scenario)


def construction_levers(scenario: dict[str, Any]) -> ConstructionLevers:
    """The zoning and construction levers of a scenario (none where not set)."""
    table = dict(scenario.get("construction", {}))
    if "multi_core_towns" in table:
        table["multi_core_towns"] = tuple(table["multi_core_towns"])
    return ConstructionLevers(**table)


def scenario_hash(scenario: dict[str, Any]) -> str:
    """SHA-256 of the resolved scenario in canonical JSON."""
    canonical = json.dumps(scenario, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
