"""Model parameters read from the TOML files in ``data/parameters/``.

Parameters live in data, not in code. Each TOML table maps onto a frozen dataclass; a missing
or misspelt field, or a value of the wrong type, is refused with the file, the field and what
is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

PARAMETERS_DIR = Path(__file__).resolve().parents[1] / "data" / "parameters"


class ParameterError(ValueError):
    """A parameter file is missing, malformed or has a field of the wrong type."""


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
    """Yearly employment churn."""

    churn_per_year: float
    retirement_age_years: int
    min_working_age_years: int


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


@dataclass(frozen=True)
class DemographyParameters:
    """All parameters of the demography sub-model."""

    births: Births
    labour: LabourStatus
    household_formation: HouseholdFormationRates


T = TypeVar("T")


def load_synthesis_parameters(folder: Path = PARAMETERS_DIR) -> SynthesisParameters:
    """Read ``synthesis.toml``."""
    path = folder / "synthesis.toml"
    return build_parameters(SynthesisParameters, read_parameter_file(path), path, "")


def load_demography_parameters(folder: Path = PARAMETERS_DIR) -> DemographyParameters:
    """Read ``demography.toml``."""
    path = folder / "demography.toml"
    return build_parameters(DemographyParameters, read_parameter_file(path), path, "")


def read_parameter_file(path: Path) -> dict[str, Any]:
    """The TOML table of a parameter file; a missing or malformed file names itself."""
    if not path.is_file():
        raise ParameterError(f"{path}: parameter file missing")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ParameterError(f"{path}: not valid TOML ({error})") from error


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


@dataclass(frozen=True)
class PriceAdjustment:
    """How prices respond to vacancy and demand each year."""

    vacancy_response: float
    demand_response: float
    max_change_per_year: float


@dataclass(frozen=True)
class HousingMarketParameters:
    """All parameters of the housing market (housing_market.toml)."""

    moving: Moving
    choice: DwellingChoice
    prices: PriceAdjustment


def load_migration_parameters(folder: Path = PARAMETERS_DIR) -> MigrationParameters:
    """Read ``migration.toml``."""
    path = folder / "migration.toml"
    return build_parameters(MigrationParameters, read_parameter_file(path), path, "")


def load_housing_market_parameters(folder: Path = PARAMETERS_DIR) -> HousingMarketParameters:
    """Read ``housing_market.toml``."""
    path = folder / "housing_market.toml"
    return build_parameters(HousingMarketParameters, read_parameter_file(path), path, "")


def check_ranges(params: Any, path: Path, ranges: dict[str, tuple[float, float, bool]]) -> None:
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
