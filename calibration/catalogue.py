"""The catalogue of uncertain parameters (``data/calibration/catalogue.toml``).

Each entry names a field of a parameter file in ``data/parameters/`` (through the model's one
parameter mechanism, ``model.parameters``), its unit, the prior range a fit may search, its
source or "assumption", and its role: ``fitted`` by the optimiser, ``solved`` per
municipality for a target, or an ``assumption`` that no shipped statistic identifies. The
value itself stays in its file; the calibration writes what it finds to
``data/parameters/calibrated.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.parameters import (
    PARAMETERS_DIR,
    ParameterError,
    effective_value,
    read_parameter_file,
    read_toml,
)

CATALOGUE_FILE = Path(__file__).resolve().parents[1] / "data" / "calibration" / "catalogue.toml"
ROLES = ("fitted", "solved", "assumption")


class CatalogueError(ValueError):
    """The catalogue is missing, malformed or names a field no parameter file has."""


@dataclass(frozen=True)
class UncertainParameter:
    """One entry of the catalogue."""

    name: str
    file: str
    field: str
    unit: str
    prior: tuple[float, float]
    source: str
    role: str
    target: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """(file, dotted field): where the value lives."""
        return self.file, self.field


def read_catalogue(
    path: Path = CATALOGUE_FILE, parameters_dir: Path = PARAMETERS_DIR
) -> list[UncertainParameter]:
    """Every entry of the catalogue, checked against the parameter files.

    Refused, naming the catalogue and the entry: a missing or unknown field of an entry, an
    unknown role, a prior that is not ``[low, high]`` with low < high, a file or field that
    no parameter file has, and a fitted parameter whose value lies outside its prior.
    """
    table = read_toml(path, CatalogueError, "catalogue missing")
    try:
        entries = table["parameter"]
    except KeyError as error:
        raise CatalogueError(
            f"{path}: not a catalogue of [[parameter]] entries ({error})"
        ) from error
    catalogue, names = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: parameter {entry.get('name', i)!r}"
        try:
            parameter = UncertainParameter(**{**entry, "prior": tuple(entry["prior"])})
        except (KeyError, TypeError) as error:
            raise CatalogueError(f"{where}: field missing or unknown ({error})") from error
        if parameter.role not in ROLES:
            raise CatalogueError(f"{where}: role {parameter.role!r}; allowed: {', '.join(ROLES)}")
        low, high = parameter.prior if len(parameter.prior) == 2 else (1.0, 0.0)
        if not low < high:
            raise CatalogueError(f"{where}: prior {list(parameter.prior)}; allowed: [low, high]")
        if parameter.name in names:
            raise CatalogueError(f"{where}: listed twice")
        names.add(parameter.name)
        try:
            value = effective_value(parameter.file, parameter.field, parameters_dir)
        except ParameterError as error:
            raise CatalogueError(f"{where}: {error}") from error
        if parameter.role == "solved" and not isinstance(value, dict):
            raise CatalogueError(f"{where}: a solved parameter must be a table by municipality")
        if parameter.role != "solved" and not low <= float(value) <= high:
            raise CatalogueError(
                f"{where}: its value {value} lies outside its prior {list(parameter.prior)}"
            )
        catalogue.append(parameter)
    return catalogue


def current_value(parameter: UncertainParameter, parameters_dir: Path = PARAMETERS_DIR) -> Any:
    """The value the model reads for ``parameter`` (its file with the calibrated overlay)."""
    return effective_value(parameter.file, parameter.field, parameters_dir)


def file_value(parameter: UncertainParameter, parameters_dir: Path = PARAMETERS_DIR) -> Any:
    """The value of ``parameter`` in its own file, without the calibrated overlay."""
    value: Any = read_parameter_file(Path(parameters_dir) / parameter.file)
    for name in parameter.field.split("."):
        value = value[name]
    return value
