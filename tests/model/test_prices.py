"""Base-year dwelling prices against SSB 06035 and the rules of model/housing/prices.py."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents.population import DWELLING_TYPE_NAMES
from model.bundle import BundleError, load_bundle
from model.housing.prices import (
    IMPUTED,
    PUBLISHED,
    SSB_TYPE_CODES,
    SSB_TYPE_INDEX,
    SSB_TYPE_OF,
    HousingPriceParameters,
    base_dwelling_prices,
    fit_price_model,
    leave_one_municipality_out_rmse,
    municipal_covariates,
    municipal_type_prices,
    price_fit_report,
)
from model.parameters import PARAMETERS_DIR, ParameterError, load_parameters
from model.region import region_codes


@pytest.fixture(scope="module")
def params():
    return load_parameters(HousingPriceParameters)


@pytest.fixture(scope="module")
def priced(small_model, params):
    """Type prices and per-dwelling prices of the small model."""
    type_prices = municipal_type_prices(small_model.bundle, small_model.world.codes, params)
    prices = base_dwelling_prices(
        small_model.bundle, small_model.world, small_model.dwellings, params
    )
    return type_prices, prices


def ssb_base_year(bundle) -> pd.Series:
    """SSB 06035 of the base year straight from the bundle, by (kommunenummer, type)."""
    table = bundle["housing_prices.csv"]
    table = table[table["year"] == bundle.base_year]
    return table.set_index(["kommunenummer", "boligtype_code"])["price_nok_per_m2"]


def test_dwelling_types_map_onto_ssb_price_types():
    assert set(SSB_TYPE_OF) == set(DWELLING_TYPE_NAMES)
    expected = {
        "detached": "01",
        "two_family": "02",
        "row_terraced": "02",
        "other": "02",
        "apartment_block": "03",
        "communal": "03",
    }
    for index, name in enumerate(DWELLING_TYPE_NAMES):
        assert SSB_TYPE_CODES[SSB_TYPE_INDEX[index]] == expected[name]


def test_model_mean_equals_ssb_2024_wherever_published(small_model, priced):
    _, prices = priced
    dwellings = small_model.dwellings
    frame = pd.DataFrame(
        {
            "kommunenummer": np.asarray(small_model.world.codes)[dwellings.municipality],
            "boligtype_code": np.asarray(SSB_TYPE_CODES)[SSB_TYPE_INDEX[dwellings.dwelling_type]],
            "price": prices,
        }
    )
    model_mean = frame.groupby(["kommunenummer", "boligtype_code"])["price"].mean()
    ssb = ssb_base_year(small_model.bundle)
    both = pd.concat([ssb.rename("ssb"), model_mean.rename("model")], axis=1, join="inner")
    assert len(both) >= 150  # 155 published values of the default region have dwellings
    np.testing.assert_allclose(both["model"], both["ssb"], rtol=1e-9)
    assert both.loc[("0301", "03"), "model"] == pytest.approx(102_899, rel=1e-9)


def test_fit_report_agrees_with_the_prices(small_model, priced):
    type_prices, prices = priced
    report = price_fit_report(
        small_model.bundle, small_model.world, small_model.dwellings, prices, type_prices
    )
    assert len(report) == 3 * small_model.world.n_municipalities
    present = report[report["dwellings"] > 0]
    np.testing.assert_allclose(
        present["model_mean_nok_per_m2"], present["municipal_nok_per_m2"], rtol=1e-9
    )
    published = present[present["source"] == PUBLISHED]
    np.testing.assert_allclose(
        published["model_mean_nok_per_m2"], published["ssb_nok_per_m2"], rtol=1e-9
    )
    assert report.loc[report["source"] == IMPUTED, "ssb_nok_per_m2"].isna().all()
    assert report.loc[report["source"] == PUBLISHED, "ssb_nok_per_m2"].notna().all()


def test_every_dwelling_gets_a_finite_positive_price(small_model, priced):
    _, prices = priced
    assert prices.shape == (len(small_model.dwellings),)
    assert np.isfinite(prices).all()
    assert (prices > 0).all()


def test_cells_near_oslo_centre_are_dearer_than_far_ones(small_model, priced):
    _, prices = priced
    world, dwellings = small_model.world, small_model.dwellings
    oslo = world.codes.index("0301")
    easting, northing = world.cell_centre_m()
    d_km = (
        np.hypot(
            easting[dwellings.cell] - world.centre_easting_m[oslo],
            northing[dwellings.cell] - world.centre_northing_m[oslo],
        )
        / 1000
    )
    for ssb_type in range(len(SSB_TYPE_CODES)):
        in_oslo = (dwellings.municipality == oslo) & (
            SSB_TYPE_INDEX[dwellings.dwelling_type] == ssb_type
        )
        near = prices[in_oslo & (d_km < 4)]
        far = prices[in_oslo & (d_km > 10)]
        assert len(near) >= 3 and len(far) >= 100  # few detached houses in central Oslo
        assert near.mean() > 1.5 * far.mean()
        assert near.min() > far.max()


def test_flat_gradient_gives_every_dwelling_its_municipal_price(small_model, params):
    flat = dataclasses.replace(
        params,
        gradient=dataclasses.replace(
            params.gradient, centre_premium_log=0.0, station_premium_log_per_access=0.0
        ),
    )
    type_prices = municipal_type_prices(small_model.bundle, small_model.world.codes, flat)
    prices = base_dwelling_prices(
        small_model.bundle, small_model.world, small_model.dwellings, flat
    )
    dwellings = small_model.dwellings
    table = type_prices[list(SSB_TYPE_CODES)].to_numpy()
    expected = table[dwellings.municipality, SSB_TYPE_INDEX[dwellings.dwelling_type]]
    np.testing.assert_allclose(prices, expected, rtol=1e-12)


@pytest.mark.parametrize("region", ["osloregionen", "all"])
def test_imputed_prices_lie_within_the_published_range(params, region):
    bundle = load_bundle()
    type_prices = municipal_type_prices(bundle, region_codes(bundle, region), params)
    ssb = ssb_base_year(bundle)
    for code in SSB_TYPE_CODES:
        published = ssb.xs(code, level="boligtype_code")
        imputed = type_prices.loc[type_prices[f"source_{code}"] == IMPUTED, code]
        assert len(imputed) > 0
        assert imputed.between(published.min(), published.max()).all()


def test_published_values_pass_through_and_the_rest_is_imputed(params):
    bundle = load_bundle()
    codes = region_codes(bundle, "all")
    type_prices = municipal_type_prices(bundle, codes, params)
    ssb = ssb_base_year(bundle)
    assert type_prices.loc["0301", ["01", "02", "03"]].tolist() == [73_055, 77_889, 102_899]
    counts = {code: (type_prices[f"source_{code}"] == PUBLISHED).sum() for code in SSB_TYPE_CODES}
    assert counts == {"01": 84, "02": 51, "03": 59}  # SSB 06035 2024 in the bundle
    for (kommune, code), value in ssb.items():
        assert type_prices.loc[kommune, f"source_{code}"] == PUBLISHED
        assert type_prices.loc[kommune, code] == value
    assert np.isfinite(type_prices[list(SSB_TYPE_CODES)].to_numpy()).all()


def test_oslo_has_the_highest_apartment_price(params):
    bundle = load_bundle()
    ssb = ssb_base_year(bundle).xs("03", level="boligtype_code")
    assert ssb.idxmax() == "0301"  # true in SSB 06035 2024
    type_prices = municipal_type_prices(bundle, region_codes(bundle, "all"), params)
    assert type_prices["03"].idxmax() == "0301"
    assert (type_prices["03"].drop("0301") < type_prices.loc["0301", "03"]).all()


def test_imputation_fit_is_sound(params):
    bundle = load_bundle()
    fit = fit_price_model(bundle, params)
    assert fit.n_observations == 194 and fit.n_municipalities == 85
    assert fit.r_squared > 0.85
    assert fit.coefficients["log_income_nok"] > 0
    assert fit.coefficients["log_distance_oslo_s_km"] < 0
    assert fit.coefficients["centrality_class"] < 0
    type_constants = fit.coefficients[["type_01", "type_02", "type_03"]]
    assert type_constants.is_monotonic_increasing  # detached < small houses < apartments
    assert leave_one_municipality_out_rmse(bundle, params) < 0.2


def test_distance_floor_applies_to_oslo_only(params):
    covariates = municipal_covariates(load_bundle(), params)
    at_floor = covariates["log_distance_oslo_s_km"] == np.log(params.imputation.distance_floor_km)
    assert covariates.index[at_floor].tolist() == ["0301"]


def test_missing_centrality_file_is_named(bundle_copy: Path, params):
    (bundle_copy / "centrality_class.csv").unlink()
    with pytest.raises(BundleError, match=r"centrality_class\.csv: file missing"):
        municipal_covariates(load_bundle(bundle_copy), params)


def test_centrality_class_out_of_range_is_named(bundle_copy: Path, params):
    path = bundle_copy / "centrality_class.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[3, "centrality_class_1to6"] = "7"
    table.to_csv(path, index=False)
    with pytest.raises(BundleError, match=r"'centrality_class_1to6' has '7' at line 5"):
        municipal_covariates(load_bundle(bundle_copy), params)


@pytest.fixture()
def toml_copy(tmp_path: Path) -> Path:
    shutil.copy(PARAMETERS_DIR / "housing_prices.toml", tmp_path / "housing_prices.toml")
    return tmp_path / "housing_prices.toml"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("distance_floor_km = 1.0", "", r"field 'imputation\.distance_floor_km' missing"),
        (
            "centre_premium_log = 1.0",
            "centre_premium_log = 1.0\ncentre_premium = 2.0",
            r"field 'gradient\.centre_premium' is unknown",
        ),
        (
            "station_premium_log_per_access = 0.1",
            'station_premium_log_per_access = "high"',
            r"field 'gradient\.station_premium_log_per_access' is 'high'; allowed: float",
        ),
        (
            "centre_decay_km_min = 1.0",
            "centre_decay_km_min = 0",
            r"field 'gradient\.centre_decay_km_min' is 0\.0; allowed: > 0",
        ),
        (
            "centre_decay_km_min = 1.0",
            "centre_decay_km_min = 9.0",
            r"field 'gradient\.centre_decay_km_min' is 9\.0; allowed: at most",
        ),
        ("[gradient]", "[gradients]", r"field 'gradients' is unknown"),
    ],
)
def test_parameter_errors_name_the_file_and_field(toml_copy: Path, old, new, message):
    text = toml_copy.read_text(encoding="utf-8")
    assert old in text
    toml_copy.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"housing_prices\.toml: " + message):
        load_parameters(HousingPriceParameters, toml_copy.parent)


def test_missing_parameter_file_is_named(tmp_path: Path):
    with pytest.raises(ParameterError, match=r"housing_prices\.toml: parameter file missing"):
        load_parameters(HousingPriceParameters, tmp_path)
