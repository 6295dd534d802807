"""The data bundle: schema, validation errors that name file and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from model.bundle import BUNDLE_SCHEMA, BundleError, load_bundle
from model.region_model import RegionModel

README = Path(__file__).resolve().parents[2] / "data" / "README.md"


def test_shipped_bundle_loads_with_base_year_2024():
    bundle = load_bundle()
    assert bundle.base_year == 2024
    assert len(bundle["municipalities.csv"]) == 104


def test_every_schema_file_and_column_is_documented_in_the_data_readme():
    text = README.read_text(encoding="utf-8")
    for spec in BUNDLE_SCHEMA:
        assert spec.name in text, spec.name
        for column in spec.columns:
            assert f"`{column.name}`" in text, f"{spec.name}: {column.name}"


def test_missing_file_is_named(bundle_copy: Path):
    (bundle_copy / "employment.csv").unlink()
    with pytest.raises(BundleError, match=r"employment\.csv: file missing"):
        load_bundle(bundle_copy)


def test_missing_column_is_named(bundle_copy: Path):
    path = bundle_copy / "employment.csv"
    pd.read_csv(path, dtype=str).drop(columns="employed_by_residence").to_csv(path, index=False)
    with pytest.raises(
        BundleError, match=r"employment\.csv: column 'employed_by_residence' missing"
    ):
        load_bundle(bundle_copy)


def test_malformed_value_is_named_with_line_and_what_is_allowed(bundle_copy: Path):
    path = bundle_copy / "population_by_age_sex.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[5, "persons"] = "many"
    table.to_csv(path, index=False)
    with pytest.raises(BundleError) as error:
        load_bundle(bundle_copy)
    message = str(error.value)
    assert "population_by_age_sex.csv" in message
    assert "column 'persons'" in message
    assert "'many' at line 7" in message
    assert "whole number" in message


def test_negative_and_out_of_range_values_are_refused(bundle_copy: Path):
    path = bundle_copy / "mortality_rates.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[0, "death_probability"] = "1.5"
    table.to_csv(path, index=False)
    with pytest.raises(
        BundleError, match=r"mortality_rates\.csv: column 'death_probability'.*between 0 and 1"
    ):
        load_bundle(bundle_copy)


def test_bad_municipality_number_is_refused(bundle_copy: Path):
    path = bundle_copy / "employment.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[0, "kommunenummer"] = "301"
    table.to_csv(path, index=False)
    with pytest.raises(BundleError, match=r"employment\.csv: column 'kommunenummer' has '301'"):
        load_bundle(bundle_copy)


def test_population_tables_that_disagree_are_refused(bundle_copy: Path):
    path = bundle_copy / "municipalities.csv"
    table = pd.read_csv(path, dtype=str)
    table.loc[0, "population"] = "717711"
    table.to_csv(path, index=False)
    with pytest.raises(
        BundleError, match=r"population_by_age_sex\.csv: column 'persons' sums to 717710"
    ):
        load_bundle(bundle_copy)


def test_missing_bundle_toml_is_named(bundle_copy: Path):
    (bundle_copy / "bundle.toml").unlink()
    with pytest.raises(BundleError, match=r"bundle\.toml: file missing"):
        load_bundle(bundle_copy)


def test_another_bundle_with_the_same_schema_runs_without_code_changes(bundle_copy: Path):
    """An edited copy (here: another base year, Oslo halved) drives the model as is."""
    (bundle_copy / "bundle.toml").write_text('base_year = 2023\ntitle = "test"\n')
    ages = pd.read_csv(bundle_copy / "population_by_age_sex.csv", dtype={"kommunenummer": str})
    oslo = ages["kommunenummer"] == "0301"
    ages.loc[oslo, "persons"] = ages.loc[oslo, "persons"] // 2
    ages.to_csv(bundle_copy / "population_by_age_sex.csv", index=False)
    municipalities = pd.read_csv(bundle_copy / "municipalities.csv", dtype={"kommunenummer": str})
    municipalities.loc[municipalities["kommunenummer"] == "0301", "population"] = int(
        ages.loc[oslo, "persons"].sum()
    )
    municipalities.to_csv(bundle_copy / "municipalities.csv", index=False)

    model = RegionModel(seed=1, scale=0.02, data_dir=bundle_copy)
    table = model.indicator_table()
    oslo_population = table.query("kommunenummer == '0301' and indicator == 'population'")
    assert model.year == 2023
    assert oslo_population["year"].tolist() == [2023]
    assert oslo_population["value"].iloc[0] == pytest.approx(
        ages.loc[oslo, "persons"].sum(), abs=model.households.weight[0]
    )
