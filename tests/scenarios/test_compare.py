"""Comparing scenarios with the nullalternativ over seeds: scores, reuse, invariants, CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.parameters import ParameterError
from scenarios.cli import main
from scenarios.compare import (
    COLUMNS,
    SCALE,
    Comparison,
    ComparisonRequest,
    compare_scenarios,
    compare_values,
    comparison_figure,
    comparison_text,
    effect_steps,
    load_scorecard,
    score_effects,
    seed_statistics,
)
from scenarios.store import list_runs, open_run

SMALL = {"seeds": 2, "scale": 0.01, "start": 2024, "end": 2025}
CLI_SMALL = ["--seeds", "2", "--scale", "0.01", "--start", "2024", "--end", "2025"]
THRESHOLDS = {"relative": (0.01, 0.05, 0.15), "points": (0.005, 0.02, 0.05)}


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One runs folder for the module: the model runs once, later comparisons reuse them."""
    return tmp_path_factory.mktemp("compare_runs")


@pytest.fixture(scope="module")
def road_pricing(runs_dir: Path) -> Comparison:
    """Baseline against road pricing, 2 seeds, run fresh on a pool of two processes."""
    request = ComparisonRequest(("baseline", "road_pricing"), workers=2, **SMALL)
    return compare_scenarios(request, runs_dir)


def region_row(table: pd.DataFrame, indicator: str, year: int) -> pd.Series:
    rows = table[
        (table["indicator"] == indicator)
        & (table["kommunenummer"] == "region")
        & (table["year"] == year)
    ]
    assert len(rows) == 1, (indicator, year)
    return rows.iloc[0]


def run_folders(runs_dir: Path) -> set[str]:
    return {run.run_id for run in list_runs(runs_dir)}


# ---- 1. direction --------------------------------------------------------------------------


def test_road_pricing_cuts_car_km_and_scores_it_as_better(road_pricing: Comparison):
    table = road_pricing.table
    car = region_row(table, "commute_car_vehicle_km", 2025)
    assert car["difference_p95"] < 0 and not car["within_noise"]
    assert car["better"] == "lower" and car["sign_means"] == "better"
    assert car["score"].startswith("+")
    assert car["relative_difference"] < -0.01
    pt = region_row(table, "commute_trips_pt", 2025)
    assert pt["difference_mean"] > 0 and pt["score"].startswith("+")
    # The first comparison in an empty runs folder ran every run, none reused.
    runs = [run for s in road_pricing.manifest["scenarios"] for run in s["runs"]]
    assert len(runs) == 4 and not any(run["reused"] for run in runs)
    assert (road_pricing.path / "comparison.html").read_text().count("plotly") > 10


# ---- 2. reuse ------------------------------------------------------------------------------


def test_a_second_comparison_reuses_every_run_and_gives_the_same_numbers(
    runs_dir: Path, road_pricing: Comparison
):
    before = run_folders(runs_dir)
    request = ComparisonRequest(("baseline", "road_pricing"), workers=1, **SMALL)
    again = compare_scenarios(request, runs_dir)
    assert run_folders(runs_dir) == before
    manifest = json.loads((again.path / "manifest.json").read_text())
    runs = [run for s in manifest["scenarios"] for run in s["runs"]]
    assert len(runs) == 4 and all(run["reused"] for run in runs)
    first_ids = [run["run_id"] for s in road_pricing.manifest["scenarios"] for run in s["runs"]]
    assert [run["run_id"] for run in runs] == first_ids
    assert again.path != road_pricing.path
    pd.testing.assert_frame_equal(
        pd.read_parquet(again.path / "comparison.parquet"),
        pd.read_parquet(road_pricing.path / "comparison.parquet"),
    )


# ---- 3. invariants -------------------------------------------------------------------------


def test_a_scenario_against_itself_has_no_effect_anywhere(runs_dir: Path, road_pricing: Comparison):
    request = ComparisonRequest(("baseline", "baseline"), workers=1, **SMALL)
    itself = compare_scenarios(request, runs_dir)
    table = itself.table
    assert list(table.columns) == COLUMNS
    counted = table["n_seeds"] > 0
    assert (table.loc[counted, ["difference_mean", "difference_p05", "difference_p95"]] == 0).all(
        axis=None
    )
    assert (table["score"] == "0").all() and table["within_noise"].all()
    assert not table.duplicated(["scenario", "indicator", "kommunenummer", "year"]).any()
    # n_seeds: the seeds in which the indicator has a value, as in the stored runs.
    runs = [
        open_run(runs_dir, entry["run_id"]) for entry in itself.manifest["scenarios"][0]["runs"]
    ]
    values = pd.concat([run.table("indicators") for run in runs])
    finite = values.assign(ok=np.isfinite(values["value"])).groupby(
        ["indicator", "kommunenummer", "year"]
    )["ok"]
    expected = finite.sum().rename("expected").reset_index()
    merged = table.merge(expected, on=["indicator", "kommunenummer", "year"], validate="1:1")
    assert len(merged) == len(table) == len(expected)
    assert (merged["n_seeds"] == merged["expected"]).all()
    assert (table["n_seeds"] == 2).mean() > 0.95
    # Areas: the region and every municipality of the run.
    municipalities = runs[0].manifest["municipalities"]
    assert set(table["kommunenummer"]) == {"region", *municipalities}
    assert set(table["year"]) == {2024, 2025}
    # The road pricing comparison has every indicator of the run, for each area and year.
    assert len(road_pricing.table) == len(table)


# ---- 4. pure scoring -----------------------------------------------------------------------


def test_a_band_straddling_zero_scores_zero_even_when_the_mean_is_large():
    reference = np.array([[100.0, 100.0, 100.0]])
    scenario = np.array([[70.0, 130.0, 150.0]])  # mean +16.7 %, but one seed goes the other way
    result = compare_values(reference, scenario, "higher", "relative", THRESHOLDS).iloc[0]
    assert result["difference_p05"] < 0 < result["difference_p95"]
    assert result["within_noise"] and result["score"] == "0"
    consistent = compare_values(reference, scenario + 40, "higher", "relative", THRESHOLDS)
    assert not consistent["within_noise"].iloc[0] and consistent["score"].iloc[0] == "+++"


def test_scores_follow_the_direction_and_the_thresholds():
    reference = np.array([[199.0, 200.0, 201.0]])
    lower = compare_values(reference, reference * 0.8, "lower", "relative", THRESHOLDS)
    assert lower["score"].iloc[0] == "+++"  # 20 % less of something to cut
    assert lower["relative_difference"].iloc[0] == pytest.approx(-0.2)
    assert (
        compare_values(reference, reference * 1.06, "higher", "relative", THRESHOLDS)["score"].iloc[
            0
        ]
        == "++"
    )
    assert (
        compare_values(reference, reference * 1.06, "lower", "relative", THRESHOLDS)["score"].iloc[
            0
        ]
        == "--"
    )
    assert (
        compare_values(reference, reference * 0.94, "none", "relative", THRESHOLDS)["score"].iloc[0]
        == "--"
    )  # less, neither better nor worse
    # A share: 0.05 -> 0.06 is +20 % but one percentage point, so one sign in points.
    shares = np.array([[0.05, 0.05]])
    assert (
        compare_values(shares, shares + 0.01, "higher", "points", THRESHOLDS)["score"].iloc[0]
        == "+"
    )
    assert (
        compare_values(shares, shares + 0.01, "higher", "relative", THRESHOLDS)["score"].iloc[0]
        == "+++"
    )


@pytest.mark.parametrize(
    "difference, reference, kind, score",
    [
        (0.0099, 1.0, "relative", "0"),
        (1.0, 100.0, "relative", "+"),  # exactly 1 %
        (4.99, 100.0, "relative", "+"),
        (5.0, 100.0, "relative", "++"),  # exactly 5 %
        (14.99, 100.0, "relative", "++"),
        (15.0, 100.0, "relative", "+++"),  # exactly 15 %
        (-15.0, -100.0, "relative", "---"),  # relative to |reference|
        (0.0049, 0.4, "points", "0"),
        (0.005, 0.4, "points", "+"),  # exactly 0.5 points
        (0.0199, 0.4, "points", "+"),
        (0.02, 0.4, "points", "++"),
        (-0.05, 0.4, "points", "---"),
        (3.0, 0.0, "relative", "+++"),  # from nothing: unbounded
        (0.0, 0.0, "relative", "0"),
        (np.nan, 1.0, "relative", "0"),
    ],
)
def test_each_threshold_boundary(difference: float, reference: float, kind: str, score: str):
    result = score_effects(
        np.array([difference]), np.array([reference]), np.array([False]), "higher", kind, THRESHOLDS
    )
    assert result.tolist() == [score]


def test_within_noise_wins_over_any_size_and_steps_count_thresholds():
    assert score_effects(
        np.array([50.0]), np.array([100.0]), np.array([True]), "lower", "relative", THRESHOLDS
    ).tolist() == ["0"]
    steps = effect_steps(np.array([0.0, 0.01, 0.049, 0.05, 0.2, np.nan]), (0.01, 0.05, 0.15))
    assert steps.tolist() == [0, 1, 1, 2, 3, 0]
    assert set(SCALE) == {"---", "--", "-", "0", "+", "++", "+++"}


def test_seed_statistics_pair_the_seeds_and_use_linear_quantiles():
    reference = np.array([[10.0, 20.0, 30.0, 40.0], [1.0, np.nan, 1.0, 1.0]])
    scenario = np.array([[11.0, 23.0, 30.0, 48.0], [2.0, 5.0, 2.0, 2.0]])
    stats = seed_statistics(reference, scenario)
    differences = np.array([1.0, 3.0, 0.0, 8.0])
    assert stats["difference_mean"][0] == differences.mean()
    assert stats["difference_p05"][0] == np.quantile(differences, 0.05)
    assert stats["difference_p95"][0] == np.quantile(differences, 0.95)
    assert stats["relative_difference"][0] == pytest.approx(3.0 / 25.0)
    # p05 = 0 + 0.15 * (1 - 0): no seed goes below 0, but the reference itself varies by
    # half of 38.5 - 11.5 between seeds, far more than the mean difference of 3.
    assert stats["difference_p05"][0] > 0
    assert stats["reference_noise"][0] == pytest.approx((38.5 - 11.5) / 2)
    assert stats["within_noise"][0]
    steady = seed_statistics(np.full((1, 4), 25.0), 25.0 + differences[None, :])
    assert steady["reference_noise"][0] == 0.0 and not steady["within_noise"][0]
    across = seed_statistics(np.full((1, 4), 25.0), 25.0 + differences[None, :] - [2.0, 0, 0, 0])
    assert across["difference_p05"][0] < 0 and across["within_noise"][0]
    assert stats["n_seeds"].tolist() == [4, 3]  # the seed with a missing value does not count
    assert stats["reference_mean"][1] == 1.0 and stats["difference_mean"][1] == 1.0
    assert not stats["within_noise"][1]


def test_the_scorecard_lists_headlines_with_labels_and_defaults_unlisted_indicators(
    tmp_path: Path,
):
    scorecard = load_scorecard()
    headlines = scorecard.headlines()
    for name in ("population", "commute_car_vehicle_km", "co2e_total_tonnes"):
        assert name in headlines
    assert all(scorecard.label(n, "nb") != n and scorecard.label(n) != n for n in headlines)
    assert scorecard.better("commute_car_vehicle_km") == "lower"
    assert scorecard.better("population") == "none"
    assert scorecard.better("not_an_indicator") == "none"
    assert scorecard.threshold_kind("not_an_indicator", "persons") == "relative"
    assert scorecard.threshold_kind("not_an_indicator", "share") == "points"
    assert scorecard.threshold_kind("zero_emission_share_new_heavy", "share") == "points"
    bad = tmp_path / "scorecard.toml"
    bad.write_text(
        scorecard.path.read_text(encoding="utf-8").replace(
            'better = "lower"\nheadline = true', 'better = "less"\nheadline = true', 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(ParameterError, match=r"indicators\.commute_car_vehicle_km\.better"):
        load_scorecard(bad)


# ---- 5. the command ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["baseline", *CLI_SMALL], "two or more scenarios"),
        (["baseline", "road_pricing", *CLI_SMALL[2:], "--seeds", "1"], "one seed"),
        (["baseline", "no_such_scenario", *CLI_SMALL], "no_such_scenario"),
        (["baseline", "road_pricing", *CLI_SMALL, "--start", "2026"], "start 2026 and end 2025"),
        (["baseline", "road_pricing", *CLI_SMALL, "--start", "2020"], "base year"),
    ],
)
def test_bad_requests_end_with_one_line_and_write_nothing(
    tmp_path: Path, capsys, arguments: list[str], message: str
):
    runs = tmp_path / "runs"
    assert main(["compare", *arguments, "--runs-dir", str(runs), "--workers", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("osloregion: error:") and "\n" not in error
    assert message in error
    assert not runs.exists()


def test_the_command_prints_the_scores_and_the_folder(runs_dir: Path, road_pricing, capsys):
    before = run_folders(runs_dir)
    arguments = ["compare", "baseline", "road_pricing", *CLI_SMALL, "--runs-dir", str(runs_dir)]
    assert main(arguments) == 0
    captured = capsys.readouterr()
    assert run_folders(runs_dir) == before
    assert "run 4/4: road_pricing seed 2 (stored run reused)" in captured.err
    out = captured.out
    header = next(line for line in out.splitlines() if line.startswith("indicator"))
    assert "score" in header and "difference [p05, p95]" in header
    car = next(line for line in out.splitlines() if line.startswith("Car vehicle-km, commutes"))
    assert car.split()[-2].startswith("+")  # the score column, before "sign means"
    folder = Path(out.strip().splitlines()[-1].removeprefix("wrote "))
    assert folder.parent == runs_dir / "comparisons"
    assert {p.name for p in folder.iterdir()} == {
        "comparison.parquet",
        "comparison.html",
        "manifest.json",
    }


def test_a_rail_project_opening_after_the_end_year_is_noted(road_pricing: Comparison):
    manifest = json.loads(json.dumps(road_pricing.manifest))
    manifest["scenarios"][1]["scenario"]["rail"] = {"ringeriksbanen": 2032}
    text = comparison_text(dataclasses.replace(road_pricing, manifest=manifest))
    assert "ringeriksbanen opens in 2032, after the end year 2025" in text
    assert "outside the horizon" not in comparison_text(road_pricing)
    figure = comparison_figure(road_pricing.table, road_pricing.scorecard)
    # Three traces (band top, band bottom, mean) per headline indicator and compared scenario.
    assert len(figure.data) == 3 * len(road_pricing.scorecard.headlines())
