"""Model parameters read from the TOML files in ``data/parameters/``.

Parameters live in data, not in code. Each parameter file maps onto a frozen dataclass that
declares, with :func:`parameter_file`, the file (and optionally the sub-table) it is read
from, the allowed ranges of its fields and an optional check of fields that must agree::

    @parameter_file("jobs.toml", ranges={"expansion_share": (0.0, 1.0, True)})
    @dataclass(frozen=True)
    class JobParameters: ...

:func:`load_parameters` is the one loader: it reads the file, applies the calibrated overlay
(below), takes the declared sub-table, fills the dataclass (:func:`build_parameters`: nested
dataclasses take sub-tables), refuses values outside the declared ranges
(:func:`check_ranges`) and runs the declared check. A missing or misspelt field, a value of
the wrong type or out of range is refused with the file, the field and what is allowed. The
declarations form a registry: :func:`parameter_class` gives the dataclass that reads a file
whole, :func:`parameter_files` all of them.

**The calibrated overlay.** Where the folder holds ``calibrated.toml``, its table ``values``
gives, per parameter file, dotted field paths and the values that replace the file's before
the dataclass is filled (its table ``fit`` is the calibration's metadata, not read here)::

    [values."housing_market.toml"]
    "prices.vacancy_response" = 0.8

    [values."housing_market.toml"."choice.municipality_constant"]  # a dict-valued field
    "0301" = 0.12

A path walks into the file's nested tables and must end at a field the file already has; the
value replaces it whole (a dict-valued field gets exactly the keys the overlay lists). A file
or field the overlay misspells is refused naming ``calibrated.toml``; the replaced values go
through the same type conversion, ranges and check as the file's own. Without
``calibrated.toml`` the files are read as they are. :func:`calibrated_values` gives the
overlay and :func:`effective_value` the value of one field as the model reads it.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import numpy as np
import pandas as pd

PARAMETERS_DIR = Path(__file__).resolve().parents[1] / "data" / "parameters"
CALIBRATED_FILE = "calibrated.toml"
# The modules besides this one that declare parameter files: imported before a lookup by file
# name, so that the registry is complete whatever the caller imported so far.
_DECLARING_MODULES = (
    "model.commuting",
    "model.construction",
    "model.emissions.parameters",
    "model.housing.prices",
    "model.jobs",
    "model.mode_choice",
    "model.transport.network",
    "model.transport.skims",
)

T = TypeVar("T")
# Allowed values by dotted field: (lowest, highest, whether the lowest is allowed itself).
Ranges = dict[str, tuple[float, float, bool]]


class ParameterError(ValueError):
    """A parameter file is missing, malformed or has a field of the wrong type."""


@dataclass(frozen=True)
class ParameterFile:
    """Where a parameter dataclass is read from and what its values must satisfy."""

    file_name: str  # in the parameters folder, e.g. "jobs.toml"
    table: str | None  # the sub-table read, or None for the whole file
    ranges: Ranges  # refused by check_ranges
    check: Callable[[Any, Path], None] | None  # check(params, path) raises ParameterError


_DECLARED: dict[type, ParameterFile] = {}


def parameter_file(
    file_name: str,
    *,
    table: str | None = None,
    ranges: Ranges | None = None,
    check: Callable[[Any, Path], None] | None = None,
) -> Callable[[type[T]], type[T]]:
    """Declare the parameter file a frozen dataclass is read from (put above ``@dataclass``).

    ``table`` names the sub-table read (None: the whole file, at most one class per file);
    ``ranges`` are refused as by :func:`check_ranges`; ``check(params, path)`` runs last and
    raises ParameterError for what ranges cannot say (fields that must agree).
    """
    declared = ParameterFile(file_name, table, dict(ranges or {}), check)

    def register(cls: type[T]) -> type[T]:
        if not (is_dataclass(cls) and cls.__dataclass_params__.frozen):  # type: ignore[attr-defined]
            raise TypeError(f"{cls.__name__}: parameters are read into a frozen dataclass")
        for other, known in _DECLARED.items():
            # The same class defined again (a module reloaded) may declare its file again.
            if (known.file_name, known.table) == (file_name, table) and _name(other) != _name(cls):
                raise TypeError(f"{file_name}: already read by {_name(other)}")
        _DECLARED[cls] = declared
        return cls

    return register


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def parameter_declaration(cls: type) -> ParameterFile:
    """The declaration of a parameter dataclass; ParameterError if it declares none."""
    if cls not in _DECLARED:
        raise ParameterError(f"{cls.__name__} declares no parameter file")
    return _DECLARED[cls]


def parameter_files() -> dict[str, type]:
    """Every dataclass that reads a parameter file whole, by file name, sorted."""
    for module in _DECLARING_MODULES:
        importlib.import_module(module)
    whole = {known.file_name: cls for cls, known in _DECLARED.items() if known.table is None}
    return dict(sorted(whole.items()))


def parameter_class(file_name: str) -> type:
    """The dataclass that reads ``file_name`` (e.g. ``"housing_market.toml"``) whole."""
    classes = parameter_files()
    if file_name not in classes:
        raise ParameterError(
            f"parameter file '{file_name}' is unknown; allowed: {', '.join(classes)}"
        )
    return classes[file_name]


def load_parameters[P](cls: type[P], folder: Path = PARAMETERS_DIR) -> P:
    """Read the parameter file ``cls`` declares from ``folder``, overlaid and checked.

    The file's table, with the values ``calibrated.toml`` gives for it, is cut to the declared
    sub-table, fills ``cls`` and must pass the declared ranges and check. Every error names
    the file and the field; where the overlay replaced values, a note says which.
    """
    declared = parameter_declaration(cls)
    path = Path(folder) / declared.file_name
    table: Any = read_parameter_file(path)
    overlay = calibrated_values(folder).get(declared.file_name, {})
    _apply_overlay(table, overlay, Path(folder) / CALIBRATED_FILE, declared.file_name)
    prefix = ""
    if declared.table is not None:
        table, prefix = table.get(declared.table), f"{declared.table}."
    try:
        params = build_parameters(cls, table, path, prefix)
        check_ranges(params, path, declared.ranges)
        if declared.check is not None:
            declared.check(params, path)
    except ParameterError as error:
        if overlay:
            replaced = ", ".join(overlay)
            error.add_note(f"{Path(folder) / CALIBRATED_FILE} replaced its fields {replaced}")
        raise
    return params


def calibrated_values(folder: Path = PARAMETERS_DIR) -> dict[str, dict[str, Any]]:
    """The overlay of ``folder/calibrated.toml``: per file name, dotted field -> value.

    Empty where there is no calibrated.toml. A table other than ``fit`` and ``values``, or a
    file name that no dataclass reads, is refused naming calibrated.toml.
    """
    path = Path(folder) / CALIBRATED_FILE
    if not path.is_file():
        return {}
    table = read_parameter_file(path)
    unknown = sorted(set(table) - {"fit", "values"})
    if unknown:
        raise ParameterError(f"{path}: field '{unknown[0]}' is unknown; allowed: fit, values")
    values = table.get("values", {})
    if not isinstance(values, dict):
        raise ParameterError(f"{path}: field 'values' must be a table")
    files = parameter_files()
    for file_name, overlay in values.items():
        where = f'values."{file_name}"'
        if file_name not in files:
            raise ParameterError(f"{path}: field '{where}' is unknown; allowed: {', '.join(files)}")
        if not isinstance(overlay, dict):
            raise ParameterError(f"{path}: field '{where}' must be a table")
    return values


def calibration_metadata(folder: Path = PARAMETERS_DIR) -> dict[str, Any]:
    """The ``fit`` table of ``folder/calibrated.toml``: how the overlay was fitted.

    Empty where there is no calibrated.toml. Not read by the model; reports and the
    dashboard show it.
    """
    path = Path(folder) / CALIBRATED_FILE
    if not path.is_file():
        return {}
    fit = read_parameter_file(path).get("fit", {})
    return fit if isinstance(fit, dict) else {}


def _apply_overlay(
    table: dict[str, Any], overlay: dict[str, Any], calibrated: Path, file_name: str
) -> None:
    """Replace, in place, each dotted field of ``overlay`` in the file's ``table``, whole."""
    for dotted, value in overlay.items():
        node: Any = table
        names = dotted.split(".")
        for depth, name in enumerate(names):
            if not isinstance(node, dict) or name not in node:
                where = f'values."{file_name}".' + ".".join(names[: depth + 1])
                allowed = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                raise ParameterError(
                    f"{calibrated}: field '{where}' is unknown; allowed: {allowed}"
                )
            if depth == len(names) - 1:
                node[name] = value
            else:
                node = node[name]


def effective_value(file_name: str, field: str, folder: Path = PARAMETERS_DIR) -> Any:
    """One dotted field of a parameter file as the model reads it: overlaid and checked.

    ``effective_value("housing_market.toml", "choice.beta_access")``; a path may end inside
    a dict-valued field (``"constant.car"``) or at it (the whole dict).
    """
    value: Any = load_parameters(parameter_class(file_name), folder)
    names = field.split(".")
    for depth, name in enumerate(names):
        if is_dataclass(value):
            known = sorted(item.name for item in fields(value))
        else:
            known = sorted(value) if isinstance(value, dict) else []
        if name not in known:
            where = ".".join(names[: depth + 1])
            raise ParameterError(
                f"{Path(folder) / file_name}: field '{where}' is unknown; "
                f"allowed: {', '.join(known) or 'none'}"
            )
        value = getattr(value, name) if is_dataclass(value) else value[name]
    return value


@dataclass(frozen=True)
class HouseholdFormation:
    """How persons are grouped into households (see synthesis.toml [households])."""

    head_propensity_age_from: tuple[int, ...]
    head_propensity: tuple[float, ...]
    partner_min_age_years: int
    partner_share: float
    parent_age_gap_mean_years: float
    parent_age_gap_sd_years: float
    parent_age_gap_min_years: int
    children_per_family: float
    family_head_age_peak_years: float
    family_head_age_sd_years: float


@dataclass(frozen=True)
class IncomeModel:
    """Household income after tax around the municipal median."""

    log_income_per_employed: float
    log_income_per_adult: float
    log_income_sd: float


@dataclass(frozen=True)
class TenureModel:
    """Score weights that rank households into owners, coop owners and renters."""

    income_weight: float
    age_weight: float
    house_weight: float
    noise_sd: float
    municipal_rental_share_of_households: float


@dataclass(frozen=True)
class DwellingStock:
    """The dwelling stock: vacancy and floor areas."""

    vacancy_rate: float
    floor_area_m2: dict[str, float]
    floor_area_log_sd: float


@dataclass(frozen=True)
class Placement:
    """Where in a municipality dwellings are placed: near its centre and its stations."""

    centre_decay_km_per_sqrt_10k_persons: float
    centre_decay_km_min: float
    centre_decay_km_max: float
    station_decay_km: float
    station_weight: float
    station_reference_departures_24h: float
    station_strength_min: float
    station_strength_max: float
    station_strength_unknown: float
    floor_weight: float


@dataclass(frozen=True)
class FirmPlacement:
    """Where establishments are placed, relative to the dwelling placement."""

    centre_decay_factor: float
    station_weight: float
    floor_weight: float


@parameter_file("synthesis.toml")
@dataclass(frozen=True)
class SynthesisParameters:
    """All parameters of the base-year synthesis."""

    households: HouseholdFormation
    income: IncomeModel
    tenure: TenureModel
    dwellings: DwellingStock
    placement: Placement
    firms: FirmPlacement


@dataclass(frozen=True)
class Births:
    """Parameters of births beyond the age-specific fertility rates."""

    male_share: float


@dataclass(frozen=True)
class LabourStatus:
    """Yearly employment churn and the trend of the employment propensities."""

    churn_per_year: float
    retirement_age_years: int
    min_working_age_years: int
    propensity_growth_per_year: float
    propensity_max: float


@dataclass(frozen=True)
class IncomeDynamics:
    """How household incomes change from one year to the next."""

    real_growth_per_year: float


@dataclass(frozen=True)
class HouseholdFormationRates:
    """Young adults leaving their parents' home."""

    age_from_years: tuple[int, ...]
    leave_probability: tuple[float, ...]
    max_age_years: int
    generation_gap_years: int
    couple_min_age_years: int
    couple_max_age_years: int
    couple_probability: float
    separation_probability: float
    separation_max_age_years: int
    leave_vacancy_elasticity: float
    leave_factor: dict[str, float]  # by municipality number; 1 where not named


@parameter_file(
    "demography.toml",
    ranges={
        "labour.churn_per_year": (0.0, 1.0, True),
        "labour.propensity_growth_per_year": (-0.05, 0.05, True),
        "labour.propensity_max": (0.0, 1.0, False),
        "income.real_growth_per_year": (-0.05, 0.05, True),
        "household_formation.couple_probability": (0.0, 1.0, True),
        "household_formation.separation_probability": (0.0, 1.0, True),
        "household_formation.leave_vacancy_elasticity": (0.0, 10.0, True),
    },
)
@dataclass(frozen=True)
class DemographyParameters:
    """All parameters of the demography sub-model."""

    births: Births
    labour: LabourStatus
    income: IncomeDynamics
    household_formation: HouseholdFormationRates


def read_parameter_file(path: Path) -> dict[str, Any]:
    """The TOML table of a parameter file; a missing or malformed file names itself."""
    return read_toml(path)


def read_toml(
    path: Path,
    error: type[Exception] = ParameterError,
    missing: str = "parameter file missing",
) -> dict[str, Any]:
    """The TOML table of ``path``; a missing or malformed file raises ``error`` naming it."""
    if not path.is_file():
        raise error(f"{path}: {missing}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as decode_error:
        raise error(f"{path}: not valid TOML ({decode_error})") from decode_error


def read_csv(
    path: Path,
    columns: tuple[str, ...] | list[str],
    error: type[Exception] = ParameterError,
    missing: str = "parameter file missing",
    dtype: Any = None,
) -> pd.DataFrame:
    """The table of the CSV file ``path``; a missing file or column raises ``error`` naming it."""
    if not path.is_file():
        raise error(f"{path}: {missing}")
    table = pd.read_csv(path, dtype=dtype)
    for column in columns:
        if column not in table.columns:
            raise error(f"{path}: column '{column}' missing")
    return table


def build_parameters[T](cls: type[T], table: Any, path: Path, prefix: str = "") -> T:
    """Fill the frozen dataclass ``cls`` from a TOML table, refusing what does not fit.

    Nested dataclass fields take sub-tables; floats accept whole numbers; tuples take lists.
    Every error names the file, the field and what is allowed.
    """
    if not isinstance(table, dict):
        raise ParameterError(f"{path}: field '{prefix.rstrip('.')}' must be a table")
    hints = get_type_hints(cls)
    names = {field.name for field in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - names)
    if unknown:
        raise ParameterError(
            f"{path}: field '{prefix}{unknown[0]}' is unknown; allowed: {', '.join(sorted(names))}"
        )
    values = {}
    for name in sorted(names):
        where = f"{prefix}{name}"
        if name not in table:
            raise ParameterError(f"{path}: field '{where}' missing")
        values[name] = _convert(hints[name], table[name], path, where)
    return cls(**values)


def _convert(hint: Any, value: Any, path: Path, where: str) -> Any:
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return build_parameters(hint, value, path, where + ".")
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is str and isinstance(value, str):
        return value
    if getattr(hint, "__origin__", None) is dict and isinstance(value, dict):
        item = hint.__args__[1]
        return {key: _convert(item, v, path, f"{where}.{key}") for key, v in value.items()}
    if getattr(hint, "__origin__", None) is tuple and isinstance(value, list):
        item = hint.__args__[0]
        return tuple(_convert(item, v, path, f"{where}[{i}]") for i, v in enumerate(value))
    allowed = getattr(hint, "__name__", str(hint))
    raise ParameterError(f"{path}: field '{where}' is {value!r}; allowed: {allowed}")


@parameter_file("migration.toml")
@dataclass(frozen=True)
class MigrationParameters:
    """Out-migration rates, arriving households and refugee integration (migration.toml)."""

    out_age_from_years: tuple[int, ...]
    out_probability: tuple[float, ...]
    template_oldest_age_min_years: int
    template_oldest_age_max_years: int
    labour_migrant_share: float
    labour_migrant_employment: float
    refugee_income_factor: float
    refugee_employment_men: tuple[float, ...]
    refugee_employment_women: tuple[float, ...]
    refugee_stay_years: int
    refugee_leave_municipality_probability: float
    settlement_immigrant_share_max: float


@dataclass(frozen=True)
class Moving:
    """Who moves each year: rates by age band of the oldest member and tenure."""

    age_from_years: tuple[int, ...]
    renter_probability: tuple[float, ...]
    owner_probability: tuple[float, ...]
    crowded_extra_probability: float


@dataclass(frozen=True)
class DwellingChoice:
    """The multinomial logit of movers over candidate dwellings."""

    candidates_local: int
    candidates_region: int
    rounds: int
    beta_cost_to_income: float
    beta_access: float
    beta_space: float
    beta_same_municipality: float
    beta_income_mix: float
    beta_family_house: float
    stay_bonus: float
    space_m2_base: float
    space_m2_per_person: float
    owner_max_price_to_income: float
    rent_yield_per_year: float
    renter_max_cost_share: float
    access_decay_km: float
    access_station_weight: float
    municipality_constant: dict[str, float]


@dataclass(frozen=True)
class PriceAdjustment:
    """How prices respond to vacancy and demand each year."""

    vacancy_response: float
    demand_response: float
    max_change_per_year: float


@parameter_file("housing_market.toml")
@dataclass(frozen=True)
class HousingMarketParameters:
    """All parameters of the housing market (housing_market.toml)."""

    moving: Moving
    choice: DwellingChoice
    prices: PriceAdjustment


def municipal_values(
    values: dict[str, float], codes: tuple[str, ...] | list[str], default: float = 0.0
) -> np.ndarray:
    """A table of values by municipality number as an array in the order of ``codes``.

    Municipalities the table does not name get ``default`` (a calibrated table of one region
    leaves the others of a larger region at the default); numbers it names outside ``codes``
    are not used.
    """
    return np.array([float(values.get(code, default)) for code in codes])


def check_ranges(params: Any, path: Path, ranges: Ranges) -> None:
    """Refuse values outside ``ranges``: field -> (lowest, highest, lowest itself allowed).

    Fields are dotted paths into ``params`` (``"developers.build_share_per_year"``).
    """
    for where, (low, high, low_allowed) in ranges.items():
        value: Any = params
        for name in where.split("."):
            value = getattr(value, name)
        if not (value >= low if low_allowed else value > low) or value > high:
            bound = ">=" if low_allowed else ">"
            allowed = f"{bound} {low:g}" + (f" and <= {high:g}" if high != float("inf") else "")
            raise ParameterError(f"{path}: field '{where}' is {value!r}; allowed: {allowed}")
