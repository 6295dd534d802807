"""The data bundle of a base year: which files, which columns, and loading with validation.

A bundle is a folder (``data/base_2024/`` ships with the project) holding the statistics the
world is built from. ``BUNDLE_SCHEMA`` below is the contract: another folder with the same
files and columns (for instance an earlier base year) can be passed as ``data_dir`` without
code changes. Every problem is reported as a :class:`BundleError` that names the file, the
column and what is allowed, before any agent is created.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_BUNDLE_DIR = Path(__file__).resolve().parents[1] / "data" / "base_2024"

CODE = "code"  # a 4-digit municipality number kept as a string ("0301")
TEXT = "text"
INT = "int"  # a whole number >= 0
FLOAT = "float"  # a finite number >= 0
SHARE = "share"  # a number in [0, 1]
PCT = "pct"  # a number in [0, 100], missing allowed where noted
BOOL = "bool"


@dataclass(frozen=True)
class Column:
    """One required column of a bundle file."""

    name: str
    kind: str
    meaning: str
    missing_allowed: bool = False


@dataclass(frozen=True)
class FileSpec:
    """One required file of a bundle."""

    name: str
    meaning: str
    columns: tuple[Column, ...]


BUNDLE_SCHEMA: tuple[FileSpec, ...] = (
    FileSpec(
        "municipalities.csv",
        "one row per municipality: name, county, area, administrative centre, population",
        (
            Column("kommunenummer", CODE, "municipality number, 4 digits"),
            Column("kommunenavn", TEXT, "municipality name"),
            Column("fylke", TEXT, "county name"),
            Column("population", INT, "persons on 1 January of the base year (SSB 07459)"),
            Column("area_km2", FLOAT, "total area incl. fresh water, km2"),
            Column("adm_center", TEXT, "name of the administrative centre"),
        ),
    ),
    FileSpec(
        "population_by_age_sex.csv",
        "persons on 1 January of the base year by single year of age (100 = 100+) and sex",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("sex", TEXT, "female or male"),
            Column("age", INT, "age in whole years, 0-100 (100 means 100 or older)"),
            Column("persons", INT, "number of persons (SSB 07459)"),
        ),
    ),
    FileSpec(
        "employment.csv",
        "employed persons by place of residence and jobs by place of work (SSB 11618)",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("employed_by_residence", INT, "employed persons 15-74 living here"),
            Column("employed_by_workplace_jobs", INT, "jobs located here"),
        ),
    ),
    FileSpec(
        "household_size.csv",
        "average persons per private household; municipalities may be missing",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("persons_per_household", FLOAT, "persons per private household"),
        ),
    ),
    FileSpec(
        "household_socioeconomics.csv",
        "household income, tenure and dwelling types by municipality",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("median_household_income_after_tax_nok", FLOAT, "median income after tax, NOK"),
            Column("hh_owner_pct", PCT, "households owning (not coop), %"),
            Column("hh_coop_owner_pct", PCT, "households owning via coop, %", True),
            Column("hh_renter_pct", PCT, "households renting, %"),
            Column("dw_detached_pct", PCT, "detached houses, % of dwellings"),
            Column("dw_two_family_pct", PCT, "two-family houses, % of dwellings"),
            Column("dw_row_terraced_pct", PCT, "row and terraced houses, % of dwellings"),
            Column("dw_apartment_block_pct", PCT, "apartment blocks, % of dwellings"),
            Column("dw_communal_pct", PCT, "communal dwellings, % of dwellings"),
            Column("dw_other_pct", PCT, "other buildings, % of dwellings"),
        ),
    ),
    FileSpec(
        "rail_stations.csv",
        "rail stations (Entur NSR) with coordinates and line membership",
        (
            Column("nsr_stopplace_id", TEXT, "NSR stop place id"),
            Column("station_name", TEXT, "station name"),
            Column("kommunenummer", CODE, "municipality number"),
            Column("lat", FLOAT, "latitude, WGS84"),
            Column("lon", FLOAT, "longitude, WGS84"),
            Column("is_museum_railway", BOOL, "True for museum and tourist railways"),
            Column("departures_24h_snapshot", FLOAT, "rail departures in 24 h", True),
        ),
    ),
    FileSpec(
        "admin_centres.csv",
        "location of each municipality's administrative centre",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("easting_m", FLOAT, "EPSG:25833 easting, m"),
            Column("northing_m", FLOAT, "EPSG:25833 northing, m"),
        ),
    ),
    FileSpec(
        "grid_cells_1km.csv",
        "1 km cells (EPSG:25833) and the municipality each belongs to",
        (
            Column("easting_m", INT, "easting of the cell's south-west corner, m"),
            Column("northing_m", INT, "northing of the cell's south-west corner, m"),
            Column("kommunenummer", CODE, "municipality number"),
            Column("land_share", SHARE, "share of the cell inside the municipality"),
        ),
    ),
    FileSpec(
        "osloregionen_membership.csv",
        "member municipalities of Osloregionen with the confidence of the evidence",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("confidence", TEXT, "high, medium, low, inferred or uncertain"),
        ),
    ),
    FileSpec(
        "mortality_rates.csv",
        "annual probability of dying by sex and age (SSB life table)",
        (
            Column("sex", TEXT, "female or male"),
            Column("age", INT, "age 0-100"),
            Column("death_probability", SHARE, "probability of dying within the year"),
        ),
    ),
    FileSpec(
        "fertility_rates.csv",
        "age-specific fertility rates (SSB)",
        (
            Column("age", INT, "age of mother 15-49"),
            Column("births_per_woman", SHARE, "live births per woman and year"),
        ),
    ),
    FileSpec(
        "housing_prices.csv",
        "mean price per m2 of used dwellings sold freely, by dwelling type (SSB 06035)",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("boligtype_code", TEXT, "01 detached, 02 small houses, 03 apartments"),
            Column("year", INT, "year of sale"),
            Column("price_nok_per_m2", FLOAT, "mean price, NOK per m2"),
        ),
    ),
    FileSpec(
        "population_projection.csv",
        "SSB 14288 main alternative (MMMM): population on 1 January by year",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("year", INT, "year (1 January)"),
            Column("population_projected_mmmm", INT, "projected persons"),
        ),
    ),
    FileSpec(
        "commuting_od.csv",
        "employed persons by municipality of residence and of work (SSB 03321)",
        (
            Column("home_kommunenummer", TEXT, "municipality of residence (4 digits)"),
            Column("work_kommunenummer", TEXT, "municipality of work (4 digits, or OUT)"),
            Column("employed_persons", INT, "employed persons commuting on this pair"),
            Column("year", INT, "year (4th quarter)"),
        ),
    ),
    FileSpec(
        "travel_mode_shares.csv",
        "mode shares of trips from travel surveys (RVU, Ruter); mode-choice calibration",
        (
            Column("geography", TEXT, "area the share describes"),
            Column("survey", TEXT, "survey or report"),
            Column("year", TEXT, "survey year or years"),
            Column("population_or_trip_type", TEXT, "trips or persons counted"),
            Column("metric", TEXT, "what the value measures"),
            Column("value_pct", PCT, "value in per cent"),
            Column("note", TEXT, "remark from the source", missing_allowed=True),
            Column("source_url", TEXT, "page the value was read from"),
        ),
    ),
    FileSpec(
        "emissions_oslo.csv",
        "greenhouse gas emissions of Oslo by year, sector, source and gas (Miljødirektoratet)",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("kommunenavn", TEXT, "municipality name"),
            Column("year", INT, "year of the emissions"),
            Column("sector", TEXT, "Miljødirektoratet's sector (e.g. Veitrafikk)"),
            Column("source", TEXT, "Miljødirektoratet's source (e.g. Personbiler)"),
            Column("gas", TEXT, "CO2, CH4, N2O, HFK or SF6"),
            Column("tonnes_co2e", FLOAT, "emissions, tonnes CO2 equivalents"),
        ),
    ),
    FileSpec(
        "private_cars_by_fuel.csv",
        "registered private cars on 31 December by fuel, Oslo (SSB 07849)",
        (
            Column("kommunenummer", CODE, "municipality number"),
            Column("kommunenavn", TEXT, "municipality name"),
            Column("year", INT, "year (stock on 31 December)"),
            Column("fuel", TEXT, "Petrol, Diesel, Paraffin, Gas, Electricity or Other fuel"),
            Column("private_cars", INT, "registered private cars"),
        ),
    ),
    FileSpec(
        "employment_rate_by_age_sex.csv",
        "employment rates by sex and age group, used as relative propensities",
        (
            Column("sex", TEXT, "female or male"),
            Column("age_from", INT, "first age of the group"),
            Column("age_to", INT, "last age of the group (inclusive)"),
            Column("employment_rate", SHARE, "share employed"),
        ),
    ),
)

SCHEMA_BY_FILE = {spec.name: spec for spec in BUNDLE_SCHEMA}


class BundleError(ValueError):
    """A bundle file is missing or does not follow the schema; the message says where."""


@dataclass(frozen=True)
class Bundle:
    """A validated base-year bundle: its folder, base year and tables."""

    path: Path
    base_year: int
    title: str
    tables: dict[str, pd.DataFrame]

    def __getitem__(self, file_name: str) -> pd.DataFrame:
        """Return the table of ``file_name`` (for example ``"municipalities.csv"``)."""
        return self.tables[file_name]


def load_bundle(path: str | Path | None = None) -> Bundle:
    """Read and validate every file of the bundle at ``path`` (default: the shipped 2024 one)."""
    folder = Path(path) if path is not None else DEFAULT_BUNDLE_DIR
    if not folder.is_dir():
        raise BundleError(f"{folder}: data bundle folder not found")
    base_year, title = _read_bundle_toml(folder / "bundle.toml")
    tables = {spec.name: _read_table(folder / spec.name, spec) for spec in BUNDLE_SCHEMA}
    _check_cross_file(folder, tables)
    return Bundle(path=folder, base_year=base_year, title=title, tables=tables)


def _read_bundle_toml(path: Path) -> tuple[int, str]:
    if not path.is_file():
        raise BundleError(f"{path}: file missing (it names the bundle's base_year)")
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise BundleError(f"{path}: not valid TOML ({error})") from error
    base_year = meta.get("base_year")
    if not isinstance(base_year, int) or not 1900 <= base_year <= 2100:
        raise BundleError(
            f"{path}: field 'base_year' must be a whole year between 1900 and 2100, "
            f"got {base_year!r}"
        )
    return base_year, str(meta.get("title", path.parent.name))


def _read_table(path: Path, spec: FileSpec) -> pd.DataFrame:
    if not path.is_file():
        raise BundleError(f"{path}: file missing ({spec.meaning})")
    codes = {c.name: str for c in spec.columns if c.kind in (CODE, TEXT)}
    try:
        table = pd.read_csv(path, dtype=codes, keep_default_na=True, na_values=["NA", ""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise BundleError(f"{path}: cannot be read as CSV ({error})") from error
    for column in spec.columns:
        if column.name not in table.columns:
            raise BundleError(
                f"{path}: column '{column.name}' missing ({column.meaning}); "
                f"columns present: {', '.join(map(str, table.columns))}"
            )
        table[column.name] = _check_column(path, table[column.name], column)
    return table


def _check_column(path: Path, values: pd.Series, column: Column) -> pd.Series:
    missing = values.isna()
    if missing.any() and not column.missing_allowed:
        row = int(np.flatnonzero(missing.to_numpy())[0]) + 2  # +1 header, +1 one-based
        raise BundleError(f"{path}: column '{column.name}' is empty at line {row}")
    if column.kind == CODE:
        bad = ~values.str.fullmatch(r"\d{4}")
        _raise_at_first(path, column, values, bad, "a 4-digit municipality number like 0301")
        return values
    if column.kind == TEXT:
        return values
    if column.kind == BOOL:
        text = values.astype(str).str.strip().str.lower()
        bad = ~text.isin(["true", "false"])
        _raise_at_first(path, column, values, bad, "True or False")
        return text == "true"
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & ~missing
    allowed = {
        INT: "a whole number >= 0",
        FLOAT: "a number >= 0",
        SHARE: "a number between 0 and 1",
        PCT: "a percentage between 0 and 100",
    }[column.kind]
    _raise_at_first(path, column, values, bad, allowed)
    finite = numbers.fillna(0.0)
    bad = (finite < 0) | ~np.isfinite(finite)
    if column.kind == INT:
        bad |= finite != np.round(finite)
    if column.kind == SHARE:
        bad |= finite > 1
    if column.kind == PCT:
        bad |= finite > 100
    _raise_at_first(path, column, values, bad, allowed)
    if column.kind == INT and not column.missing_allowed:
        return numbers.astype(np.int64)
    return numbers.astype(float)


def _raise_at_first(
    path: Path, column: Column, values: pd.Series, bad: pd.Series, allowed: str
) -> None:
    if bad.any():
        index = int(np.flatnonzero(bad.to_numpy())[0])
        raise BundleError(
            f"{path}: column '{column.name}' has {values.iloc[index]!r} at line {index + 2}; "
            f"allowed: {allowed}"
        )


def _check_cross_file(folder: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Checks that span files: known municipality numbers, population sums agree."""
    municipalities = tables["municipalities.csv"]
    known = set(municipalities["kommunenummer"].unique())
    duplicated = municipalities["kommunenummer"].duplicated()
    if duplicated.any():
        code = municipalities["kommunenummer"][duplicated].iloc[0]
        raise BundleError(
            f"{folder / 'municipalities.csv'}: column 'kommunenummer' lists {code} twice"
        )
    for spec in BUNDLE_SCHEMA:
        table = tables[spec.name]
        if "kommunenummer" not in table.columns or spec.name == "municipalities.csv":
            continue
        unknown = sorted(set(table["kommunenummer"].unique()) - known)
        if unknown:
            raise BundleError(
                f"{folder / spec.name}: column 'kommunenummer' has {unknown[0]}, "
                f"which is not in municipalities.csv"
            )
    by_age = tables["population_by_age_sex.csv"].groupby("kommunenummer")["persons"].sum()
    stated = municipalities.set_index("kommunenummer")["population"]
    differs = stated[stated != by_age.reindex(stated.index).fillna(0).astype(int)]
    if len(differs):
        code = differs.index[0]
        raise BundleError(
            f"{folder / 'population_by_age_sex.csv'}: column 'persons' sums to "
            f"{int(by_age.get(code, 0))} for {code}, but municipalities.csv says "
            f"population {int(differs.iloc[0])}"
        )
    for sex in ("female", "male"):
        for file_name in ("mortality_rates.csv", "population_by_age_sex.csv"):
            if sex not in set(tables[file_name]["sex"].unique()):
                raise BundleError(
                    f"{folder / file_name}: column 'sex' has no rows for '{sex}'; "
                    "allowed values: female, male"
                )
