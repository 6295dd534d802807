"""Targets are computed from the shipped statistics: change a CSV and the target moves."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.targets import (
    HISTORY_DIR,
    MEASURES,
    RunTables,
    Statistics,
    TargetError,
    evaluate_targets,
    read_targets,
)


@pytest.fixture()
def history_copy(tmp_path: Path) -> Path:
    """A writable copy of data/history."""
    target = tmp_path / "history"
    shutil.copytree(HISTORY_DIR, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_every_declared_target_has_a_measure_and_back():
    window, specs = read_targets()
    assert {spec.name for spec in specs} == set(MEASURES)
    assert window.base_year < window.fit_end_year <= window.report_end_year
    assert all(spec.tolerance > 0 and spec.title_nb for spec in specs)
    assert any(not spec.fitted for spec in specs), "validation targets are reported apart"


def test_growth_target_is_computed_from_the_population_csv(history_copy: Path):
    path = history_copy / "population_2005_2024_ssb07459.csv"
    table = pd.read_csv(path, dtype={"kommunenummer": str})
    oslo = table[table["kommunenummer"] == "0301"].set_index("year")["population_jan1"]
    expected = (oslo[2024] / oslo[2019]) ** 0.2 - 1
    assert Statistics(history_copy).growth(2019, 2024)["0301"] == pytest.approx(expected)

    oslo_2019 = (table["kommunenummer"] == "0301") & (table["year"] == 2019)
    table["population_jan1"] = table["population_jan1"].astype(float)
    table.loc[oslo_2019, "population_jan1"] *= 0.9
    table.to_csv(path, index=False)
    changed = Statistics(history_copy).growth(2019, 2024)["0301"]
    assert changed == pytest.approx((oslo[2024] / (0.9 * oslo[2019])) ** 0.2 - 1)
    assert changed > expected + 0.015


def test_construction_and_price_targets_follow_their_csvs(history_copy: Path):
    before = Statistics(history_copy)
    additions = before.net_additions_per_year(2015, 2023)["0301"]
    trend = before.region_real_price_trend()

    stock_path = history_copy / "dwelling_stock_by_type_ssb06265_2006_2024.csv"
    stock = pd.read_csv(stock_path, dtype={"kommunenummer": str})
    row = (stock["kommunenummer"] == "0301") & (stock["year"] == 2015)
    stock.loc[row, "dwellings_total"] -= 9000  # 1 000 more a year added since
    stock.to_csv(stock_path, index=False)
    cpi_path = history_copy / "cpi_ssb03014_2015_2024.csv"
    cpi = pd.read_csv(cpi_path)
    cpi.loc[cpi["year"] == 2020, "cpi_2015_100"] *= 0.9  # 2020 prices worth more today
    cpi.to_csv(cpi_path, index=False)

    after = Statistics(history_copy)
    assert after.net_additions_per_year(2015, 2023)["0301"] == pytest.approx(additions + 1000)
    assert after.region_real_price_trend() < trend - 0.02


def test_a_missing_statistic_names_its_file(history_copy: Path):
    (history_copy / "cpi_ssb03014_2015_2024.csv").unlink()
    with pytest.raises(TargetError, match="cpi_ssb03014_2015_2024.csv"):
        Statistics(history_copy).region_real_price_trend()


def _run_growing_at(rates: pd.Series, population: pd.Series, years: range) -> RunTables:
    """A run whose municipalities grow at ``rates`` a year (other indicators constant)."""
    rows = []
    for year in years:
        t = year - years[0]
        for code, start in population.items():
            rows.append((year, code, "population", start * (1 + rates[code]) ** t))
    table = pd.DataFrame(rows, columns=["year", "kommunenummer", "indicator", "value"])
    return RunTables(table, pd.DataFrame())


def test_a_run_growing_as_in_2019_2024_meets_the_growth_targets_and_a_flat_one_does_not():
    window, specs = read_targets()
    specs = [s for s in specs if s.name in ("municipal_growth", "oslo_growth")]
    stats = Statistics()
    population = stats.population[window.base_year]
    trend = stats.growth(window.base_year - 5, window.base_year)
    years = range(window.base_year, window.fit_end_year + 1)

    as_before = evaluate_targets(
        _run_growing_at(trend, population, years), window.fit_end_year, specs, window, stats
    )
    assert all(result.passed for result in as_before)
    assert all(result.error == pytest.approx(0.0, abs=1e-9) for result in as_before)

    flat = _run_growing_at(trend * 0, population, years)
    results = evaluate_targets(flat, window.fit_end_year, specs, window, stats)
    assert not any(result.passed for result in results)
    oslo = next(r for r in results if r.name == "oslo_growth")
    assert oslo.error == pytest.approx(100 * trend["0301"])
    assert np.isfinite(oslo.observed)
