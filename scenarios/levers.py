"""The lever catalogue: what a scenario may set, with unit, range and default, and its checks.

``scenarios/levers.toml`` is the one place a lever's kind, unit, range, default and labels
are written down. This module reads it (:func:`load_catalogue`), checks the levers of a
scenario against it (:func:`check_levers`, raising :class:`LeverError` with the field, the
value and what is allowed) and writes the reference page ``docs/levers.md``
(``python -m scenarios.levers > docs/levers.md``). The dashboard builds its controls from
the same catalogue.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from model.bundle import DEFAULT_BUNDLE_DIR
from model.parameters import PARAMETERS_DIR, read_parameter_file
from model.transport.network import load_rail_projects

CATALOGUE_PATH = Path(__file__).resolve().parent / "levers.toml"
KINDS = (
    "number",
    "integer",
    "year",
    "text",
    "choice",
    "choice_list",
    "municipality_list",
    "station_list",
    "municipality_amounts",
    "rail_projects",
    "energy_station_list",
    "climate_targets",
)
# Levers that are a whole table of a scenario file rather than one key in a theme's table.
TABLE_KINDS = ("rail_projects", "climate_targets")


class LeverError(ValueError):
    """A lever is invalid; ``field`` is its dotted name in the scenario file."""

    def __init__(self, field: str, message: str) -> None:
        """Keep the field (to find its line) and the message naming field, value, allowed."""
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Lever:
    """One lever (or one field of a list lever) of the catalogue."""

    key: str
    kind: str
    unit_nb: str = ""
    unit_en: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    default_nb: str = ""
    default_en: str = ""
    label_nb: str = ""
    label_en: str = ""
    help_nb: str = ""
    help_en: str = ""
    required: bool = False
    fields: dict[str, Lever] = field(default_factory=dict)

    @property
    def theme(self) -> str:
        """The scenario table the lever belongs to."""
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The lever's key inside its theme table (the theme itself for a table lever)."""
        return self.key.rsplit(".", 1)[-1]

    def default_text(self, language: str = "en") -> str:
        """The default in words: the catalogue's phrase, else the value with its unit."""
        phrase = self.default_nb if language == "nb" else self.default_en
        if phrase:
            return phrase
        unit = self.unit_nb if language == "nb" else self.unit_en
        value = _format(self.default)
        return f"{value} {unit}".strip() if self.kind in ("number", "integer") else value


@dataclass(frozen=True)
class Catalogue:
    """Every lever by key, the themes' titles and the horizon of opening and start years."""

    levers: dict[str, Lever]
    themes: dict[str, dict[str, str]]
    first_year: int
    last_year: int

    def theme_levers(self, theme: str) -> list[Lever]:
        """The levers of one theme, in catalogue order."""
        return [lever for lever in self.levers.values() if lever.theme == theme]

    def default(self, key: str) -> Any:
        """The default of lever ``key``."""
        return self.levers[key].default


@dataclass(frozen=True)
class Names:
    """The names a scenario may refer to: municipalities, stations and rail projects."""

    municipalities: frozenset[str]
    stations: frozenset[str]
    rail_projects: tuple[str, ...]


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read the lever catalogue, resolving defaults kept in parameter files."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    horizon = table.pop("horizon")
    themes = table.pop("themes")
    levers = {key: _lever(key, entry, path) for key, entry in table.items()}
    for key, lever in levers.items():
        if lever.theme not in themes:
            raise ValueError(f"{path}: lever '{key}' has no theme in [themes]")
    return Catalogue(levers, themes, int(horizon["first_year"]), int(horizon["last_year"]))


def _lever(key: str, entry: dict[str, Any], path: Path) -> Lever:
    if entry.get("kind") not in KINDS:
        raise ValueError(f"{path}: lever '{key}' kind {entry.get('kind')!r}; allowed: {KINDS}")
    default = entry.get("default")
    if "default_from" in entry:
        default = default_from(entry["default_from"])
    fields = {
        name: _lever(f"{key}.{name}", sub, path) for name, sub in entry.get("fields", {}).items()
    }
    return Lever(
        key=key,
        kind=entry["kind"],
        unit_nb=entry.get("unit_nb", ""),
        unit_en=entry.get("unit_en", ""),
        minimum=entry.get("min"),
        maximum=entry.get("max"),
        choices=tuple(entry.get("choices", ())),
        default=default,
        default_nb=entry.get("default_nb", ""),
        default_en=entry.get("default_en", ""),
        label_nb=entry.get("label_nb", ""),
        label_en=entry.get("label_en", ""),
        help_nb=entry.get("help_nb", ""),
        help_en=entry.get("help_en", ""),
        required=bool(entry.get("required", False)),
        fields=fields,
    )


def default_from(reference: str, folder: Path = PARAMETERS_DIR) -> Any:
    """The value ``"<file>:<table.key>"`` points at in a parameter file."""
    file_name, dotted = reference.split(":", 1)
    value: Any = read_parameter_file(folder / file_name)
    for part in dotted.split("."):
        value = value[part]
    return value


@lru_cache(maxsize=4)
def load_names(bundle_dir: Path = DEFAULT_BUNDLE_DIR) -> Names:
    """Municipality numbers and active station names of the shipped bundle, rail projects."""
    municipalities = pd.read_csv(bundle_dir / "municipalities.csv", dtype=str)
    stations = pd.read_csv(bundle_dir / "rail_stations.csv", dtype=str)
    active = stations[stations["is_museum_railway"].str.lower() != "true"]
    return Names(
        municipalities=frozenset(municipalities["kommunenummer"]),
        stations=frozenset(active["station_name"]),
        rail_projects=tuple(load_rail_projects()),
    )


def check_levers(
    scenario: dict[str, Any],
    catalogue: Catalogue | None = None,
    names: Names | None = None,
    other_fields: tuple[str, ...] = ("name", "title", "description", "extends"),
) -> None:
    """Check every lever table of ``scenario``; raise ``LeverError`` at the first bad one.

    ``other_fields`` are the loader's (name, texts, extends): skipped here, and listed
    among the allowed fields when a field is unknown.
    """
    catalogue = catalogue or load_catalogue()
    names = names or load_names()
    for theme, table in scenario.items():
        if theme in other_fields:
            continue
        if theme not in catalogue.themes:
            allowed = ", ".join([*other_fields, *catalogue.themes])
            raise LeverError(theme, f"field '{theme}' is unknown; allowed: {allowed}")
        if not isinstance(table, dict):
            raise LeverError(theme, f"field '{theme}' is {table!r}; allowed: a table")
        if theme in catalogue.levers:  # a whole-table lever
            check_value(catalogue.levers[theme], table, theme, catalogue, names)
            continue
        levers = {lever.name: lever for lever in catalogue.theme_levers(theme)}
        for name, value in table.items():
            where = f"{theme}.{name}"
            if name not in levers:
                raise LeverError(where, f"field '{where}' is unknown; allowed: {', '.join(levers)}")
            check_value(levers[name], value, where, catalogue, names)


def check_value(lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names) -> None:
    """Check one value against its lever's kind and range."""
    checker = _CHECKERS[lever.kind]
    checker(lever, value, where, catalogue, names)


def allowed_text(lever: Lever, catalogue: Catalogue) -> str:
    """What a lever allows, in words, e.g. ``a number from 0 to 20 (NOK per car-km)``."""
    unit = f" ({lever.unit_en})" if lever.unit_en else ""
    low, high = _range(lever, catalogue)
    if lever.kind == "number":
        return f"a number from {_format(low)} to {_format(high)}{unit}"
    if lever.kind == "integer":
        return f"a whole number from {_format(low)} to {_format(high)}{unit}"
    if lever.kind == "year":
        return f"a year from {low} to {high}"
    if lever.kind == "choice":
        return "one of " + ", ".join(repr(choice) for choice in lever.choices)
    if lever.kind == "choice_list":
        return "a list of one or more of " + ", ".join(lever.choices)
    if lever.kind == "text":
        return "a non-empty text"
    if lever.kind == "municipality_list":
        return "a list of 4-digit municipality numbers of data/base_2024/municipalities.csv"
    if lever.kind == "station_list":
        return "a list of station names of data/base_2024/rail_stations.csv"
    if lever.kind == "municipality_amounts":
        return (
            "a table of municipality number = a number from "
            f"{_format(low)} to {_format(high)}{unit}"
        )
    if lever.kind == "rail_projects":
        return f"a table of rail project = opening year from {low} to {high}"
    if lever.kind == "energy_station_list":
        return "a list of [[energy_stations.station]] tables"
    return "a table of municipality number = { target_years = [...], cut_share = [...] }"


def _range(lever: Lever, catalogue: Catalogue) -> tuple[Any, Any]:
    if lever.kind == "year":
        low = catalogue.first_year if lever.minimum is None else int(lever.minimum)
        high = catalogue.last_year if lever.maximum is None else int(lever.maximum)
        return low, high
    return lever.minimum, lever.maximum


def _refuse(lever: Lever, value: Any, where: str, catalogue: Catalogue) -> LeverError:
    return LeverError(
        where, f"field '{where}' is {value!r}; allowed: {allowed_text(lever, catalogue)}"
    )


def _check_number(lever: Lever, value: Any, where: str, catalogue: Catalogue, _: Names) -> None:
    kinds = (int, float) if lever.kind == "number" else (int,)
    low, high = _range(lever, catalogue)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or value != value  # NaN
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise _refuse(lever, value, where, catalogue)


def _check_text(lever: Lever, value: Any, where: str, catalogue: Catalogue, _: Names) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(lever, value, where, catalogue)


def _check_choice(lever: Lever, value: Any, where: str, catalogue: Catalogue, _: Names) -> None:
    if not isinstance(value, str) or value not in lever.choices:
        raise _refuse(lever, value, where, catalogue)


def _check_choice_list(
    lever: Lever, value: Any, where: str, catalogue: Catalogue, _: Names
) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(not isinstance(item, str) or item not in lever.choices for item in value)
    ):
        raise _refuse(lever, value, where, catalogue)


def _check_names(lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names) -> None:
    if not isinstance(value, list):
        raise _refuse(lever, value, where, catalogue)
    known = names.municipalities if lever.kind == "municipality_list" else names.stations
    what = "municipality" if lever.kind == "municipality_list" else "station"
    for item in value:
        if not isinstance(item, str) or item not in known:
            raise LeverError(
                where,
                f"field '{where}' names {what} {item!r}, which is unknown; allowed: "
                f"{allowed_text(lever, catalogue)}",
            )
    if len(set(value)) != len(value):
        raise LeverError(where, f"field '{where}' repeats a name; allowed: each name once")


def _municipality(where: str, code: Any, names: Names) -> None:
    if not isinstance(code, str) or code not in names.municipalities:
        raise LeverError(
            where,
            f"field '{where}' names municipality {code!r}, which is unknown; allowed: a "
            "4-digit municipality number of data/base_2024/municipalities.csv",
        )


def _check_amounts(
    lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names
) -> None:
    if not isinstance(value, dict):
        raise _refuse(lever, value, where, catalogue)
    number = replace(lever, kind="number")
    for code, amount in value.items():
        _municipality(f"{where}.{code}", code, names)
        _check_number(number, amount, f"{where}.{code}", catalogue, names)


def _check_rail(lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names) -> None:
    if not isinstance(value, dict):
        raise _refuse(lever, value, where, catalogue)
    year = replace(lever, kind="year", minimum=None, maximum=None)
    for project, opening in value.items():
        if project not in names.rail_projects:
            raise LeverError(
                f"{where}.{project}",
                f"field '{where}.{project}' is unknown; allowed: {', '.join(names.rail_projects)}",
            )
        try:
            _check_number(year, opening, f"{where}.{project}", catalogue, names)
        except LeverError as error:
            raise LeverError(
                error.field,
                f"field '{where}.{project}' is {opening!r}; allowed: an opening year from "
                f"{catalogue.first_year} to {catalogue.last_year} (the model's horizon)",
            ) from None


def _check_fields(lever: Lever, table: Any, where: str, catalogue: Catalogue, names: Names) -> None:
    if not isinstance(table, dict):
        raise LeverError(where, f"field '{where}' is {table!r}; allowed: a table")
    for name, value in table.items():
        if name not in lever.fields:
            raise LeverError(
                f"{where}.{name}",
                f"field '{where}.{name}' is unknown; allowed: {', '.join(lever.fields)}",
            )
        check_value(lever.fields[name], value, f"{where}.{name}", catalogue, names)
    for name, sub in lever.fields.items():
        if sub.required and name not in table:
            raise LeverError(f"{where}.{name}", f"field '{where}.{name}' missing")


def _check_stations(
    lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names
) -> None:
    if not isinstance(value, list):
        raise LeverError(where, f"field '{where}' is {value!r}; allowed: a list of tables")
    for i, table in enumerate(value):
        _check_fields(lever, table, f"{where}[{i}]", catalogue, names)
    station_names = [table["name"] for table in value]
    if len(set(station_names)) != len(station_names):
        raise LeverError(where, f"field '{where}' repeats a name; allowed: unique names")


def _check_climate(
    lever: Lever, value: Any, where: str, catalogue: Catalogue, names: Names
) -> None:
    if not isinstance(value, dict):
        raise _refuse(lever, value, where, catalogue)
    for code, table in value.items():
        here = f"{where}.{code}"
        _municipality(here, code, names)
        if not isinstance(table, dict) or set(table) != set(lever.fields):
            raise LeverError(
                here,
                f"field '{here}' is {table!r}; allowed: a table with {' and '.join(lever.fields)}",
            )
        years, cuts = table["target_years"], table["cut_share"]
        if not isinstance(years, list) or not isinstance(cuts, list) or len(years) != len(cuts):
            raise LeverError(
                here, f"field '{here}' needs lists target_years and cut_share of the same length"
            )
        for year in years:
            check_value(
                lever.fields["target_years"], year, f"{here}.target_years", catalogue, names
            )
        if not years or years != sorted(set(years)):
            raise LeverError(
                f"{here}.target_years",
                f"field '{here}.target_years' is {years}; allowed: one or more rising years",
            )
        for cut in cuts:
            check_value(lever.fields["cut_share"], cut, f"{here}.cut_share", catalogue, names)


_CHECKERS = {
    "number": _check_number,
    "integer": _check_number,
    "year": _check_number,
    "text": _check_text,
    "choice": _check_choice,
    "choice_list": _check_choice_list,
    "municipality_list": _check_names,
    "station_list": _check_names,
    "municipality_amounts": _check_amounts,
    "rail_projects": _check_rail,
    "energy_station_list": _check_stations,
    "climate_targets": _check_climate,
}


def _format(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, dict):
        return "none" if not value else str(value)
    return "none" if value is None else str(value)


def markdown(catalogue: Catalogue | None = None) -> str:
    """The reference page of every lever (``docs/levers.md``), grouped by theme."""
    catalogue = catalogue or load_catalogue()
    lines = [
        "# Scenario levers",
        "",
        "Generated from `scenarios/levers.toml` by `python -m scenarios.levers > docs/levers.md`;",
        "do not edit by hand. A scenario file sets a lever as `[theme]` table and key, e.g.",
        "`[transport]` `road_price_nok_per_km = 2.0`. A lever no scenario in the `extends`",
        "chain sets keeps its default. Opening and start years must lie in the horizon "
        f"{catalogue.first_year}-{catalogue.last_year}.",
        "",
    ]
    for theme, titles in catalogue.themes.items():
        lines += [f"## `[{theme}]`: {titles['en']} ({titles['nb']})", ""]
        lines += ["| lever | allowed | default | what it does |", "|---|---|---|---|"]
        for lever in catalogue.theme_levers(theme):
            name = f"`{lever.name}`" if lever.key != theme else f"`[{theme}]` table"
            lines.append(
                f"| {name} ({lever.label_en}) | {allowed_text(lever, catalogue)} | "
                f"{lever.default_text('en')} | {lever.help_en} |"
            )
            for sub in lever.fields.values():
                required = "required" if sub.required else sub.default_text("en")
                lines.append(
                    f"| &nbsp;&nbsp;`{sub.name}` | {allowed_text(sub, catalogue)} | {required} | |"
                )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
