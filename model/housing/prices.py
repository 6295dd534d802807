"""Base-year dwelling prices, NOK per m², for every dwelling.

Two steps:

1. **Municipal price per SSB dwelling type** (SSB 06035: 01 enebolig / detached, 02 småhus /
   small houses, 03 blokkleilighet / apartments), base year of the bundle. Where SSB publishes
   a value it is used as it is; where SSB suppresses it (few sales) it is imputed by one
   least-squares fit on every published (municipality, type) value of the bundle::

       log p = a_type + b_inc * log(median household income after tax, NOK)
               + b_dist * log(max(distance admin centre -> Oslo S, floor) / km)
               + b_cent * SSB centrality class (1 = most central)

   The fit has no parameter specific to one municipality. Imputed values are clipped to the
   range of the published values of their type, so the fit never extrapolates beyond what
   SSB observed.

2. **A gradient inside the municipality.** A dwelling's price is its municipal type price times
   a cell premium ``exp(g_m * exp(-d_centre / L_m) + g_station * S)`` (``S``: station access of
   the cell, as used by the placement), divided by the mean premium of the municipality's
   dwellings of the same SSB type. So the (weighted) mean price per m² of each type and
   municipality equals the municipal type price exactly, and equals SSB where SSB publishes.

Parameters are in ``data/parameters/housing_prices.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agents.population import DWELLING_TYPE_NAMES, Dwellings
from model.bundle import Bundle, BundleError
from model.parameters import (
    ParameterError,
    Placement,
    SynthesisParameters,
    load_parameters,
    parameter_file,
    read_csv,
)
from model.synthesis.placement import station_access
from model.world import World

M_PER_KM = 1000.0

SSB_TYPE_CODES: tuple[str, ...] = ("01", "02", "03")
SSB_TYPE_MEANING = {
    "01": "detached (enebolig)",
    "02": "small houses (småhus: two-family, row and terraced)",
    "03": "apartments (blokkleilighet)",
}
# The model's dwelling types (SSB 06265) in the SSB 06035 price types.
SSB_TYPE_OF: dict[str, str] = {
    "detached": "01",
    "two_family": "02",
    "row_terraced": "02",
    "other": "02",
    "apartment_block": "03",
    "communal": "03",
}
# Position in SSB_TYPE_CODES of each dwelling type, indexed like DWELLING_TYPE_NAMES.
SSB_TYPE_INDEX = np.array(
    [SSB_TYPE_CODES.index(SSB_TYPE_OF[name]) for name in DWELLING_TYPE_NAMES], dtype=np.int8
)

PUBLISHED, IMPUTED = "published", "imputed"
PRICE_FILE = "housing_prices.csv"
CENTRALITY_FILE = "centrality_class.csv"
CENTRALITY_COLUMN = "centrality_class_1to6"
TERMS: tuple[str, ...] = (
    "type_01",
    "type_02",
    "type_03",
    "log_income_nok",
    "log_distance_oslo_s_km",
    "centrality_class",
)


# --- parameters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceImputation:
    """Set-up of the regression that fills prices SSB does not publish."""

    reference_easting_m: float
    reference_northing_m: float
    distance_floor_km: float


@dataclass(frozen=True)
class PriceGradient:
    """How prices vary between cells inside a municipality."""

    centre_premium_log: float
    centre_premium_size_exponent: float
    centre_decay_km_per_sqrt_10k_persons: float
    centre_decay_km_min: float
    centre_decay_km_max: float
    station_premium_log_per_access: float


_POSITIVE = (
    "imputation.distance_floor_km",
    "gradient.centre_decay_km_per_sqrt_10k_persons",
    "gradient.centre_decay_km_min",
    "gradient.centre_decay_km_max",
)


def _check_decay_bounds(params: HousingPriceParameters, path: Path) -> None:
    """The centre decay's lower bound is at most its upper bound."""
    gradient = params.gradient
    if gradient.centre_decay_km_min > gradient.centre_decay_km_max:
        raise ParameterError(
            f"{path}: field 'gradient.centre_decay_km_min' is {gradient.centre_decay_km_min!r}; "
            f"allowed: at most gradient.centre_decay_km_max ({gradient.centre_decay_km_max!r})"
        )


@parameter_file(
    "housing_prices.toml",
    ranges={where: (0.0, float("inf"), False) for where in _POSITIVE},
    check=_check_decay_bounds,
)
@dataclass(frozen=True)
class HousingPriceParameters:
    """All parameters of base-year dwelling prices (``housing_prices.toml``)."""

    imputation: PriceImputation
    gradient: PriceGradient


# --- municipal prices per type ----------------------------------------------------------------


@dataclass(frozen=True)
class PriceFit:
    """The imputation regression: coefficients by term (see ``TERMS``) and goodness of fit."""

    coefficients: pd.Series
    r_squared: float
    n_observations: int
    n_municipalities: int

    def predict_log(self, design: np.ndarray) -> np.ndarray:
        """Log price per m² for the rows of a design matrix built by :func:`design_matrix`."""
        return design @ self.coefficients.to_numpy()


def published_prices(bundle: Bundle) -> pd.DataFrame:
    """SSB 06035 prices of the base year: columns kommunenummer, boligtype_code, price."""
    table = bundle[PRICE_FILE]
    rows = table[table["year"] == bundle.base_year]
    path = bundle.path / PRICE_FILE
    if rows.empty:
        raise BundleError(f"{path}: column 'year' has no row for the base year {bundle.base_year}")
    bad = ~rows["boligtype_code"].isin(SSB_TYPE_CODES)
    if bad.any():
        raise BundleError(
            f"{path}: column 'boligtype_code' has {rows['boligtype_code'][bad].iloc[0]!r}; "
            f"allowed: {', '.join(SSB_TYPE_CODES)}"
        )
    twice = rows.duplicated(["kommunenummer", "boligtype_code"])
    if twice.any():
        first = rows[twice].iloc[0]
        raise BundleError(
            f"{path}: column 'boligtype_code' lists {first['boligtype_code']} twice for "
            f"{first['kommunenummer']} in {bundle.base_year}"
        )
    if not (rows["price_nok_per_m2"] > 0).all():
        raise BundleError(f"{path}: column 'price_nok_per_m2' must be > 0 in the base year")
    rows = rows[["kommunenummer", "boligtype_code", "price_nok_per_m2"]]
    return rows.reset_index(drop=True)


def read_centrality_class(bundle: Bundle) -> pd.Series:
    """SSB centrality class (1 most central - 6 least) by municipality, from the bundle folder.

    ``centrality_class.csv`` is a reference file outside the validated schema, so it is checked
    here: every municipality of the bundle needs a class 1-6.
    """
    path = bundle.path / CENTRALITY_FILE
    table = read_csv(
        path,
        ("kommunenummer", CENTRALITY_COLUMN),
        BundleError,
        "file missing (SSB centrality class per municipality)",
        dtype=str,
    )
    classes = pd.to_numeric(table[CENTRALITY_COLUMN], errors="coerce")
    bad = ~classes.isin(range(1, 7))
    if bad.any():
        index = int(np.flatnonzero(bad.to_numpy())[0])
        raise BundleError(
            f"{path}: column '{CENTRALITY_COLUMN}' has {table[CENTRALITY_COLUMN].iloc[index]!r} "
            f"at line {index + 2}; allowed: a whole number 1-6"
        )
    series = pd.Series(classes.to_numpy(float), index=table["kommunenummer"])
    missing = sorted(set(bundle["municipalities.csv"]["kommunenummer"]) - set(series.index))
    if missing:
        raise BundleError(f"{path}: column 'kommunenummer' has no row for {missing[0]}")
    return series


def municipal_covariates(bundle: Bundle, params: HousingPriceParameters) -> pd.DataFrame:
    """Regressors of every municipality of the bundle (index kommunenummer).

    Columns: ``log_income_nok`` (log median household income after tax),
    ``log_distance_oslo_s_km`` (log straight-line km from the administrative centre to the
    reference point, raised to the floor) and ``centrality_class``.
    """
    codes = bundle["municipalities.csv"]["kommunenummer"]
    income = bundle["household_socioeconomics.csv"].set_index("kommunenummer")
    income = income["median_household_income_after_tax_nok"].reindex(codes)
    _require_positive(
        income,
        bundle.path / "household_socioeconomics.csv",
        "median_household_income_after_tax_nok",
    )
    centres = bundle["admin_centres.csv"].set_index("kommunenummer").reindex(codes)
    _require_positive(centres["easting_m"], bundle.path / "admin_centres.csv", "easting_m")
    imputation = params.imputation
    distance_km = (
        np.hypot(
            centres["easting_m"].to_numpy() - imputation.reference_easting_m,
            centres["northing_m"].to_numpy() - imputation.reference_northing_m,
        )
        / M_PER_KM
    )
    return pd.DataFrame(
        {
            "log_income_nok": np.log(income.to_numpy(float)),
            "log_distance_oslo_s_km": np.log(np.maximum(distance_km, imputation.distance_floor_km)),
            "centrality_class": read_centrality_class(bundle).reindex(codes).to_numpy(),
        },
        index=pd.Index(codes, name="kommunenummer"),
    )


def _require_positive(values: pd.Series, path: Path, column: str) -> None:
    """Refuse a municipality without a positive value in ``column``."""
    bad = ~(values > 0)
    if bad.any():
        raise BundleError(
            f"{path}: column '{column}' has no positive value for {values.index[bad][0]}"
        )


def design_matrix(
    codes: np.ndarray, type_index: np.ndarray, covariates: pd.DataFrame
) -> np.ndarray:
    """Regressors (columns as ``TERMS``) for rows of municipality ``codes`` and type index."""
    dummies = (np.asarray(type_index)[:, None] == np.arange(len(SSB_TYPE_CODES))).astype(float)
    values = covariates.loc[codes, list(TERMS[len(SSB_TYPE_CODES) :])].to_numpy(float)
    return np.column_stack([dummies, values])


def _fit_data(
    bundle: Bundle, params: HousingPriceParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design matrix, log prices and municipality codes of every published value."""
    published = published_prices(bundle)
    covariates = municipal_covariates(bundle, params)
    codes = published["kommunenummer"].to_numpy()
    type_index = published["boligtype_code"].map(SSB_TYPE_CODES.index).to_numpy()
    design = design_matrix(codes, type_index, covariates)
    return design, np.log(published["price_nok_per_m2"].to_numpy(float)), codes


def fit_price_model(bundle: Bundle, params: HousingPriceParameters) -> PriceFit:
    """Least-squares fit of log price on type, income, distance and centrality (all published)."""
    design, log_price, codes = _fit_data(bundle, params)
    beta = np.linalg.lstsq(design, log_price, rcond=None)[0]
    residual = log_price - design @ beta
    total = log_price - log_price.mean()
    return PriceFit(
        coefficients=pd.Series(beta, index=list(TERMS)),
        r_squared=float(1.0 - residual @ residual / (total @ total)),
        n_observations=len(log_price),
        n_municipalities=len(set(codes)),
    )


def leave_one_municipality_out_rmse(bundle: Bundle, params: HousingPriceParameters) -> float:
    """RMSE (log units) of each municipality's published values predicted without them."""
    design, log_price, codes = _fit_data(bundle, params)
    errors = np.empty_like(log_price)
    for code in np.unique(codes):  # one small fit per municipality (85), not per dwelling
        left_out = codes == code
        beta = np.linalg.lstsq(design[~left_out], log_price[~left_out], rcond=None)[0]
        errors[left_out] = log_price[left_out] - design[left_out] @ beta
    return float(np.sqrt(np.mean(errors**2)))


def municipal_type_prices(
    bundle: Bundle, codes: list[str] | tuple[str, ...], params: HousingPriceParameters
) -> pd.DataFrame:
    """Price per m² of each SSB type in each municipality of ``codes``, base year.

    Returns a frame indexed by kommunenummer with columns '01', '02', '03' (NOK per m²) and
    'source_01', 'source_02', 'source_03' ('published' where SSB 06035 has the value,
    'imputed' where it comes from :func:`fit_price_model`, clipped to the published range of
    its type).
    """
    codes = list(codes)
    published = published_prices(bundle).pivot(
        index="kommunenummer", columns="boligtype_code", values="price_nok_per_m2"
    )
    published = published.reindex(index=codes, columns=list(SSB_TYPE_CODES))
    fit = fit_price_model(bundle, params)
    covariates = municipal_covariates(bundle, params)
    n_types = len(SSB_TYPE_CODES)
    row_codes = np.repeat(np.asarray(codes, dtype=object), n_types)
    row_types = np.tile(np.arange(n_types), len(codes))
    estimate = np.exp(fit.predict_log(design_matrix(row_codes, row_types, covariates)))
    estimate = estimate.reshape(len(codes), n_types)
    all_published = published_prices(bundle).groupby("boligtype_code")["price_nok_per_m2"]
    low = all_published.min().reindex(list(SSB_TYPE_CODES)).to_numpy()
    high = all_published.max().reindex(list(SSB_TYPE_CODES)).to_numpy()
    estimate = np.clip(estimate, low, high)
    is_published = published.notna().to_numpy()
    prices = np.where(is_published, published.to_numpy(), estimate)
    result = pd.DataFrame(
        prices, index=pd.Index(codes, name="kommunenummer"), columns=list(SSB_TYPE_CODES)
    )
    for j, code in enumerate(SSB_TYPE_CODES):
        result[f"source_{code}"] = np.where(is_published[:, j], PUBLISHED, IMPUTED)
    return result


# --- prices per dwelling ----------------------------------------------------------------------


def centre_decay_km(population: np.ndarray, gradient: PriceGradient) -> np.ndarray:
    """Decay length L_m (km) of the centre premium of each municipality."""
    decay = gradient.centre_decay_km_per_sqrt_10k_persons * np.sqrt(population / 10_000)
    return np.clip(decay, gradient.centre_decay_km_min, gradient.centre_decay_km_max)


def cell_log_premium(
    world: World, population: np.ndarray, access: np.ndarray, gradient: PriceGradient
) -> np.ndarray:
    """Log price premium of every land cell: g_m exp(-d_centre / L_m) + g_station S."""
    decay = centre_decay_km(population, gradient)
    amplitude = (
        gradient.centre_premium_log
        * (decay / gradient.centre_decay_km_max) ** gradient.centre_premium_size_exponent
    )
    m = world.cell_municipality
    easting, northing = world.cell_centre_m()
    d_centre_km = (
        np.hypot(easting - world.centre_easting_m[m], northing - world.centre_northing_m[m])
        / M_PER_KM
    )
    centre = amplitude[m] * np.exp(-d_centre_km / decay[m])
    return centre + gradient.station_premium_log_per_access * access


def base_dwelling_prices(
    bundle: Bundle,
    world: World,
    dwellings: Dwellings,
    params: HousingPriceParameters,
    placement: Placement | None = None,
    type_prices: pd.DataFrame | None = None,
) -> np.ndarray:
    """Price per m² (NOK) of every dwelling in the base year.

    The municipal type price (:func:`municipal_type_prices`, or ``type_prices`` if given) times
    the cell premium, normalised so that the weighted mean over each municipality's dwellings
    of each SSB type equals the municipal type price. ``placement`` gives the station access
    (default: ``synthesis.toml`` in ``data/parameters``).
    """
    if placement is None:
        placement = load_parameters(SynthesisParameters).placement
    if type_prices is None:
        type_prices = municipal_type_prices(bundle, world.codes, params)
    price_table = type_prices.loc[list(world.codes), list(SSB_TYPE_CODES)].to_numpy(float)
    population = (
        bundle["municipalities.csv"]
        .set_index("kommunenummer")["population"]
        .reindex(list(world.codes))
        .to_numpy(float)
    )
    log_premium = cell_log_premium(
        world, population, station_access(world, placement), params.gradient
    )
    group = _price_group(dwellings, len(world.codes))
    premium = np.exp(log_premium)[dwellings.cell]
    n_groups = price_table.size
    weighted = np.bincount(group, weights=premium * dwellings.weight, minlength=n_groups)
    total_weight = np.bincount(group, weights=dwellings.weight, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_premium = weighted / total_weight  # NaN only for groups without dwellings
    return price_table.ravel()[group] * premium / mean_premium[group]


def _price_group(dwellings: Dwellings, n_municipalities: int) -> np.ndarray:
    """Index municipality * 3 + SSB type of each dwelling (a cell of the price table)."""
    ssb_type = SSB_TYPE_INDEX[dwellings.dwelling_type].astype(np.int64)
    return dwellings.municipality.astype(np.int64) * len(SSB_TYPE_CODES) + ssb_type


def price_fit_report(
    bundle: Bundle,
    world: World,
    dwellings: Dwellings,
    prices: np.ndarray,
    type_prices: pd.DataFrame,
) -> pd.DataFrame:
    """Per (municipality, SSB type): published price, model mean, source and dwellings.

    Columns: kommunenummer, kommunenavn, boligtype_code, source (published / imputed),
    ssb_nok_per_m2 (NaN where SSB publishes none), municipal_nok_per_m2 (the target),
    model_mean_nok_per_m2 (weighted mean of ``prices``; NaN without dwellings of the type)
    and dwellings (weighted count).
    """
    n_types = len(SSB_TYPE_CODES)
    n_groups = len(world.codes) * n_types
    group = _price_group(dwellings, len(world.codes))
    total_weight = np.bincount(group, weights=dwellings.weight, minlength=n_groups)
    weighted = np.bincount(group, weights=prices * dwellings.weight, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        model_mean = weighted / total_weight
    published = published_prices(bundle).set_index(["kommunenummer", "boligtype_code"])
    codes = np.repeat(np.asarray(world.codes, dtype=object), n_types)
    types = np.tile(np.asarray(SSB_TYPE_CODES, dtype=object), len(world.codes))
    names = np.repeat(np.asarray(world.names, dtype=object), n_types)
    target = type_prices.loc[list(world.codes), list(SSB_TYPE_CODES)].to_numpy(float).ravel()
    source = type_prices.loc[list(world.codes), [f"source_{t}" for t in SSB_TYPE_CODES]]
    ssb = published["price_nok_per_m2"].reindex(pd.MultiIndex.from_arrays([codes, types]))
    return pd.DataFrame(
        {
            "kommunenummer": codes,
            "kommunenavn": names,
            "boligtype_code": types,
            "source": source.to_numpy().ravel(),
            "ssb_nok_per_m2": ssb.to_numpy(),
            "municipal_nok_per_m2": target,
            "model_mean_nok_per_m2": model_mean,
            "dwellings": total_weight,
        }
    )
