"""Scenario files: a name, a title and description for planners, ``extends`` and levers.

A scenario is a TOML file in ``scenarios/library/`` (found by name) or anywhere (found by
path). It builds on another scenario through ``extends`` (a library name or a path relative
to the file; default ``baseline``, the nullalternativ, which is the root of every chain): a
lever the file does not set keeps the value of the scenario it extends, and one no scenario
in the chain sets keeps the catalogue's default. Tables merge key by key (a rail project
added to the baseline's), lists are replaced whole. ``title`` and ``description`` are the
file's own.

Every lever, with its unit, range and default, is listed in ``scenarios/levers.toml`` (the
lever catalogue; ``docs/levers.md`` is generated from it). A bad file is refused before
anything runs with a :class:`ScenarioError` naming the file, the line (where it can be
found), the field, the value given and what is allowed.

Loading returns the *resolved* scenario: a plain dictionary with every lever the chain sets
and ``extends`` as the list of scenarios it builds on (nearest first). That dictionary is
what a run's manifest stores and what its hash identifies.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

from model.construction import ConstructionLevers
from model.emissions.stations import EnergyLevers
from model.migration import SettlementPolicy
from model.mode_choice import TransportLevers
from scenarios.energy import energy_levers as build_energy_levers
from scenarios.levers import LeverError, check_levers, load_catalogue

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
BASELINE = "baseline"
TEXT_FIELDS = ("title", "description", "foresight")
LANGUAGES = ("nb", "en")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
# A Foresight narrative's place on the two axes of the workshop and its story.
FORESIGHT_FIELDS = {
    "growth": ("strong", "weak"),
    "pattern": ("oslo", "multi_core"),
    "story_nb": None,
    "story_en": None,
}
# Fields that describe a scenario but do not change what it simulates (not hashed).
DESCRIPTIVE_FIELDS = TEXT_FIELDS


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and field."""


def scenario_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """The file of a library scenario name, or the given path (relative to a file's folder)."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.parent != Path("."):
        if relative_to is not None and not candidate.is_absolute():
            return relative_to.parent / candidate
        return candidate
    return LIBRARY_DIR / f"{name_or_path}.toml"


def library_names() -> list[str]:
    """Names of the scenarios shipped in the library."""
    return sorted(path.stem for path in LIBRARY_DIR.glob("*.toml"))


def load_scenario(name_or_path: str) -> dict[str, Any]:
    """Read, resolve and validate a scenario; return it resolved as a plain dictionary."""
    path = scenario_path(name_or_path)
    scenario = _resolve(path, ())
    try:
        settlement_policy(scenario)
        construction_levers(scenario)
        transport_levers(scenario)
        energy_levers(scenario)
    except ValueError as error:
        raise ScenarioError(f"{path}: {error}") from error
    return scenario


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False for names no file can have (a NUL byte, too long)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _is_root(path: Path) -> bool:
    return path.resolve() == (LIBRARY_DIR / f"{BASELINE}.toml").resolve()


def _resolve(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The scenario of ``path`` merged onto the scenarios it extends."""
    if path.resolve() in chain:
        names = " -> ".join(p.name for p in (*chain, path.resolve()))
        raise ScenarioError(f"{chain[0]}: field 'extends' is circular ({names})")
    raw, text = read_scenario_file(path)
    resolved: dict[str, Any] = {"name": raw["name"]}
    for field in TEXT_FIELDS:
        if field in raw:
            resolved[field] = raw[field]
    levers = {k: v for k, v in raw.items() if k not in ("name", "extends", *TEXT_FIELDS)}
    parent_name = raw.get("extends", None if _is_root(path) else BASELINE)
    if parent_name is None:
        return resolved | levers
    parent_path = scenario_path(parent_name, relative_to=path)
    if not _is_file(parent_path):
        raise ScenarioError(
            f"{_where(path, text, 'extends')}field 'extends' is {parent_name!r}, which is not "
            f"found ({parent_path}); allowed: a library scenario ({', '.join(library_names())}) "
            "or a path to a TOML file"
        )
    parent = _resolve(parent_path, (*chain, path.resolve()))
    merged = _merge(
        {k: v for k, v in parent.items() if k not in ("name", "extends", *TEXT_FIELDS)}, levers
    )
    resolved["extends"] = [parent["name"], *parent.get("extends", [])]
    return resolved | merged


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` onto ``base``: tables merge key by key, everything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_scenario_file(path: Path) -> tuple[dict[str, Any], str]:
    """One scenario file as written (not resolved), checked field by field, and its text."""
    if not _is_file(path):
        raise ScenarioError(
            f"{path}: scenario not found; library scenarios: {', '.join(library_names())}"
        )
    try:
        text = path.read_text(encoding="utf-8")
        scenario = tomllib.loads(text)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: not valid TOML ({error})") from error
    name = scenario.get("name")
    if name is None:
        raise ScenarioError(f"{path}: field 'name' missing; allowed: a name like 'my_scenario'")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ScenarioError(
            f"{_where(path, text, 'name')}field 'name' is {name!r}; allowed: 1-64 letters "
            "a-z, digits, '_' or '-' (it names the run folders)"
        )
    extends = scenario.get("extends")
    if extends is not None and (not isinstance(extends, str) or not extends.strip()):
        raise ScenarioError(
            f"{_where(path, text, 'extends')}field 'extends' is {extends!r}; allowed: the name "
            "of a library scenario or a path to a TOML file"
        )
    _check_foresight(path, text, scenario.get("foresight", {}))
    for field in ("title", "description"):
        texts = scenario.get(field, {})
        if not isinstance(texts, dict):
            raise ScenarioError(
                f"{_where(path, text, field)}field '{field}' is {texts!r}; allowed: a table "
                f"with texts in {' and '.join(LANGUAGES)}"
            )
        for language, words in texts.items():
            if language not in LANGUAGES or not isinstance(words, str):
                raise ScenarioError(
                    f"{_where(path, text, f'{field}.{language}')}field '{field}.{language}' "
                    f"is {words!r}; allowed: text in {' or '.join(LANGUAGES)}"
                )
    try:
        check_levers(scenario, other_fields=("name", "extends", *TEXT_FIELDS))
    except LeverError as error:
        raise ScenarioError(f"{_where(path, text, error.field)}{error}") from error
    return scenario, text


def _check_foresight(path: Path, text: str, table: Any) -> None:
    """The ``[foresight]`` table: the narrative's two axes and its story in nb and en."""
    if not isinstance(table, dict):
        raise ScenarioError(
            f"{_where(path, text, 'foresight')}field 'foresight' is {table!r}; allowed: a table"
        )
    for key, value in table.items():
        where = f"foresight.{key}"
        if key not in FORESIGHT_FIELDS:
            raise ScenarioError(
                f"{_where(path, text, where)}field '{where}' is unknown; allowed: "
                f"{', '.join(FORESIGHT_FIELDS)}"
            )
        choices = FORESIGHT_FIELDS[key]
        if choices is None and not isinstance(value, str):
            raise ScenarioError(
                f"{_where(path, text, where)}field '{where}' is {value!r}; allowed: text"
            )
        if choices is not None and value not in choices:
            raise ScenarioError(
                f"{_where(path, text, where)}field '{where}' is {value!r}; allowed: "
                f"{' or '.join(choices)}"
            )


def _where(path: Path, text: str, field: str) -> str:
    line = line_of(text, field)
    return f"{path}, line {line}: " if line is not None else f"{path}: "


def line_of(text: str, field: str) -> int | None:
    """The line (1-based) of a dotted field in TOML text, or of its nearest written parent.

    ``field`` is as in error messages: ``transport.road_price_nok_per_km``,
    ``energy_stations.station[2].lat``, ``climate.0301.cut_share``. A value inside an inline
    table is found at the line of the table's key.
    """
    found: dict[str, int] = {}
    header, counts = "", {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[["):
            name = _key(line[2 : line.find("]]")])
            index = counts.get(name, 0)
            counts[name] = index + 1
            header = f"{name}[{index}]"
            found.setdefault(header, number)
            found.setdefault(name, number)
        elif line.startswith("["):
            header = _key(line[1 : line.find("]")])
            found.setdefault(header, number)
        elif "=" in line and not line.startswith("#"):
            key = _key(line.split("=", 1)[0])
            found.setdefault(f"{header}.{key}" if header else key, number)
    parts = field.replace("[", ".[").split(".")
    while parts:
        candidate = ".".join(parts).replace(".[", "[")
        if candidate in found:
            return found[candidate]
        parts.pop()
    return None


def _key(written: str) -> str:
    return "".join(written.split()).replace('"', "").replace("'", "")


def _table(scenario: dict[str, Any], theme: str) -> dict[str, Any]:
    """A theme's levers: the scenario's values, the catalogue's defaults for the rest."""
    catalogue = load_catalogue()
    values = scenario.get(theme, {})
    return {
        lever.name: values.get(lever.name, lever.default) for lever in catalogue.theme_levers(theme)
    }


def rail_projects(scenario: dict[str, Any]) -> dict[str, int]:
    """The rail projects a scenario opens, name -> opening year."""
    return dict(scenario.get("rail", {}))


def population_growth_factor(scenario: dict[str, Any]) -> float:
    """The growth lever: population growth as a multiple of SSB's main projection's."""
    return float(_table(scenario, "growth")["population_growth_factor"])


def settlement_policy(scenario: dict[str, Any]) -> SettlementPolicy:
    """The refugee settlement lever of a scenario (catalogue defaults where not set)."""
    table = _table(scenario, "settlement")
    return SettlementPolicy(
        rule=table["rule"],
        refugee_households_per_year=float(table["refugee_households_per_year"]),
        quotas={str(k): float(v) for k, v in table["quotas"].items()},
    )


def transport_levers(scenario: dict[str, Any]) -> TransportLevers:
    """Road pricing, public transport fare and frequency, remote work (defaults where not set)."""
    return TransportLevers(**{k: float(v) for k, v in _table(scenario, "transport").items()})


def energy_levers(scenario: dict[str, Any]) -> EnergyLevers:
    """Energy stations, grid headroom and climate targets of a scenario (defaults where not set)."""
    return build_energy_levers(scenario)


def construction_levers(scenario: dict[str, Any]) -> ConstructionLevers:
    """The zoning and construction levers of a scenario (none where not set)."""
    table = _table(scenario, "construction")
    table["multi_core_towns"] = tuple(table["multi_core_towns"])
    table["station_densification_stations"] = tuple(table["station_densification_stations"])
    return ConstructionLevers(**table)


def scenario_hash(scenario: dict[str, Any]) -> str:
    """SHA-256 of the resolved scenario in canonical JSON, without its title and description.

    Mending a description does not make stored runs of the scenario look out of date.
    """
    content = {k: v for k, v in scenario.items() if k not in DESCRIPTIVE_FIELDS}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
