"""The calibration report: files, page content, tables that read back, refusal to overwrite."""

from __future__ import annotations

import json
import math
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from calibration import report as report_module
from calibration.assess import Assessment
from calibration.catalogue import file_value, read_catalogue
from calibration.constants import LocationRound
from calibration.report import (
    VALIDATION_HEADING,
    ReportData,
    number,
    parameter_table,
    write_report,
)
from calibration.targets import TargetSpec, Window

WINDOW = Window(
    base_year=2024, fit_end_year=2027, report_end_year=2032, large_municipality_min_population=2e4
)


def target_spec(**values) -> TargetSpec:
    """A TargetSpec from keywords; text fields the test does not care about left empty."""
    for field in fields(TargetSpec):
        if field.name not in values and field.type in (str, "str"):
            values[field.name] = ""
    return TargetSpec(**values)


SPECS = [
    target_spec(
        name="municipal_growth",
        title="Growth of big places",
        source="SSB 07459",
        years="2019-2024",
        geography="large",
        unit="pp",
        tolerance=0.5,
        fitted=True,
        weight=2.0,
    ),
    target_spec(
        name="oslo_growth",
        title="Growth of the capital",
        source="SSB 07459",
        years="2019-2024",
        geography="Oslo",
        unit="pp",
        tolerance=0.75,
        fitted=True,
        weight=1.0,
    ),
    target_spec(
        name="dwelling_stock",
        title="Stock of homes",
        source="SSB 06265",
        years="2024",
        geography="every municipality",
        unit="share",
        tolerance=0.05,
        fitted=False,
        weight=0.0,
    ),
]
# Mean error by (target, state): met after for the fitted ones, never for the validation one.
ERRORS = {
    ("municipal_growth", "before"): 1.0,
    ("municipal_growth", "after"): 0.2,
    ("oslo_growth", "before"): 2.0,
    ("oslo_growth", "after"): 0.5,
    ("dwelling_stock", "before"): 0.1234567,
    ("dwelling_stock", "after"): 0.0823456,
}
STATES, SCALES, SEEDS = ("before", "after"), (0.01, 0.05), (1, 2)
CODES = ("0301", "3201", "3203", "3301")
INDICATORS = (
    "population",
    "population_projected_ssb",
    "vacancy_rate",
    "mean_price_nok_per_m2",
    "jobs",
    "dwellings_built",
    "low_income_households_share",
)


def synthetic_assessment() -> Assessment:
    targets, growth, series = [], [], []
    tolerance = {spec.name: spec.tolerance for spec in SPECS}
    for state in STATES:
        for scale in SCALES:
            for seed in SEEDS:
                spread = 0.01 * (seed - 1.5)
                for horizon in (WINDOW.fit_end_year, WINDOW.report_end_year):
                    for name in tolerance:
                        error = ERRORS[(name, state)] + spread
                        targets.append(
                            {
                                "state": state,
                                "scale": scale,
                                "seed": seed,
                                "horizon": horizon,
                                "target": name,
                                "error": error,
                                "tolerance": tolerance[name],
                                "model": 1.3 + spread,
                                "observed": 1.2,
                                "passed": error <= tolerance[name],
                            }
                        )
                for i, code in enumerate(CODES):
                    growth.append(
                        {
                            "state": state,
                            "scale": scale,
                            "seed": seed,
                            "kommunenummer": code,
                            "population": 700_000 / (i + 1),
                            "model_pct": 1.0 + 0.2 * i + spread,
                            "observed_pct": 1.1 + 0.1 * i,
                        }
                    )
                for year in range(WINDOW.base_year, WINDOW.report_end_year + 1):
                    t = year - WINDOW.base_year
                    values = (
                        1.5e6 * (1 + 0.01 * t),
                        1.5e6 * (1 + 0.011 * t),
                        0.03,
                        60_000 + t,
                        8e5,
                        9000 + seed,
                        0.1,
                    )
                    for indicator, value in zip(INDICATORS, values, strict=True):
                        series.append(
                            {
                                "state": state,
                                "scale": scale,
                                "seed": seed,
                                "year": year,
                                "indicator": indicator,
                                "value": value,
                            }
                        )
    return Assessment(pd.DataFrame(targets), pd.DataFrame(growth), pd.DataFrame(series))


def synthetic_parameters() -> pd.DataFrame:
    nan = float("nan")
    return pd.DataFrame(
        {
            "name": ["price_vacancy_response", "housing_location_constant", "moving_rate"],
            "file": ["housing_market.toml", "housing_market.toml", "migration.toml"],
            "field": ["prices.vacancy_response", "choice.municipality_constant", "rate"],
            "unit": ["log price a year", "utility", "share a year"],
            "role": ["fitted", "solved", "assumption"],
            "source": ["assumption", "SSB 07459", "assumption"],
            "prior_low": [0.2, -3.0, 0.05],
            "prior_high": [3.0, 3.0, 0.2],
            "file_value": [1.0, nan, 0.1],
            "calibrated_value": [0.8, nan, 0.1],
            "n_municipalities": pd.array([pd.NA, 4, pd.NA], dtype="Int64"),
            "value_min": [nan, -0.5, nan],
            "value_median": [nan, 0.1, nan],
            "value_max": [nan, 0.7, nan],
        }
    )


@pytest.fixture
def data() -> ReportData:
    fit = {
        "date": "20250301",
        "code": {"git_commit": "abc123def", "source_sha256": "f" * 64},
        "data_sha256": "e" * 64,
        "optimiser": "scipy.optimize.differential_evolution",
        "settings": {"seeds": (1, 2), "scale": 0.05},
        "report_seeds": list(SEEDS),
        "report_scales": list(SCALES),
        "objective_before": 21.5,
        "objective_after": float("nan"),
        "evaluations": 42,
        "seconds": 1234.5,
        "fitted": {"price_vacancy_response": np.float64(0.8)},
        "window": {"base_year": 2024, "end_year": 2027},
        "before_scale_0.05": {"met": 0, "of": 3},
        "targets": {"oslo_growth": {"tolerance": 0.75}},
    }
    rounds = [LocationRound(0, 1.2, 0.9), LocationRound(1, 0.6, 0.5)]
    return ReportData(fit, SPECS, WINDOW, synthetic_assessment(), synthetic_parameters(), rounds)


FILES = (
    "report.html",
    "targets.parquet",
    "growth.parquet",
    "series.parquet",
    "parameters.parquet",
    "fit.json",
)


def test_write_report_creates_every_file(tmp_path, data):
    folder = tmp_path / "calibration" / "20250301-120000"
    page = write_report(data, folder)
    assert page == folder / "report.html"
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    assert [path.name for path in folder.parent.iterdir()] == [folder.name]  # no staging left


def test_page_shows_targets_headline_and_plotly_once(tmp_path, data):
    text = write_report(data, tmp_path / "report").read_text(encoding="utf-8")
    for spec in SPECS:
        assert spec.title in text
    assert "not used in fitting" in text and "plotly" in text
    assert text.count(get_plotlyjs()[:300]) == 1
    # the validation target is listed under its own heading, after the fitted ones
    heading = text.index(VALIDATION_HEADING)
    assert text.index("Growth of the capital") < heading < text.index("Stock of homes")
    tables = text[: text.index("<h2>Errors against tolerances</h2>")]
    # after the fit both fitted targets are met at each scale, before neither; the
    # validation target is missed by both
    assert tables.count("2 of 2") == 4 and tables.count("0 of 2") == 4
    assert tables.count("0 of 1") == 8
    assert "✓" in tables and "✗" in tables
    # numbers for people, not raw floats
    assert "0.1234567" not in tables and "0.12 " in tables
    assert "1,234,5" not in tables and "20.6 min" in tables
    assert "abc123def" in tables and "e" * 64 in tables
    assert "2025-03-01" in tables


def test_tables_read_back(tmp_path, data):
    folder = tmp_path / "report"
    write_report(data, folder)
    targets = pd.read_parquet(folder / "targets.parquet")
    pd.testing.assert_frame_equal(targets, data.assessment.targets)
    growth = pd.read_parquet(folder / "growth.parquet")
    assert list(growth.columns) == list(data.assessment.growth.columns)
    assert len(growth) == len(STATES) * len(SCALES) * len(SEEDS) * len(CODES)
    series = pd.read_parquet(folder / "series.parquet")
    assert set(series["indicator"]) == set(INDICATORS)
    parameters = pd.read_parquet(folder / "parameters.parquet")
    pd.testing.assert_frame_equal(parameters, data.parameters)
    fit = json.loads((folder / "fit.json").read_text(encoding="utf-8"))
    assert fit["objective_after"] is None  # NaN written as null
    assert fit["fitted"] == {"price_vacancy_response": 0.8}
    assert fit["settings"]["seeds"] == [1, 2]


def test_existing_folder_is_refused_and_left_alone(tmp_path, data):
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="already exists"):
        write_report(data, folder)
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert [path.name for path in tmp_path.iterdir()] == ["report"]


def test_failure_leaves_nothing_half_written(tmp_path, data, monkeypatch):
    def broken(_data):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(report_module, "report_html", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        write_report(data, tmp_path / "report")
    assert list(tmp_path.iterdir()) == []


def test_number_is_for_people():
    assert number(0.0123456) == "0.012"
    assert number(1234567.8) == "1,234,568"
    assert number(12.345) == "12.3"
    assert number(1.2345) == "1.23"
    assert number(0.2) == "0.20" and number(0.9999) == "1.00"
    assert number(float("nan")) == "–" and number(None) == "–"


def test_parameter_table_on_the_real_catalogue():
    catalogue = read_catalogue()
    overlay = {
        "housing_market.toml": {
            "prices.vacancy_response": 0.8,
            "choice.municipality_constant": {"0301": 0.1, "3201": -0.2, "3203": 0.3},
        }
    }
    table = parameter_table(catalogue, overlay).set_index("name")
    assert list(table.index) == [parameter.name for parameter in catalogue]
    assert {"file", "field", "unit", "role", "source", "prior_low", "prior_high"} <= set(
        table.columns
    )
    by_name = {parameter.name: parameter for parameter in catalogue}
    vacancy = table.loc["price_vacancy_response"]
    assert vacancy["calibrated_value"] == 0.8
    assert vacancy["file_value"] == float(file_value(by_name["price_vacancy_response"]))
    housing = table.loc["housing_location_constant"]
    assert housing["n_municipalities"] == 3
    assert (housing["value_min"], housing["value_median"], housing["value_max"]) == (
        -0.2,
        0.1,
        0.3,
    )
    assert math.isnan(housing["file_value"]) and math.isnan(housing["calibrated_value"])
    for name, row in table.iterrows():
        if row["role"] == "solved" and name != "housing_location_constant":
            assert pd.isna(row["n_municipalities"]) and math.isnan(row["value_median"])
        if row["role"] != "solved":
            assert row["prior_low"] <= row["file_value"] <= row["prior_high"]
            if name != "price_vacancy_response":
                assert row["calibrated_value"] == row["file_value"]
