"""How well a calibration fits: every target before and after, over seeds and scales.

``assess`` runs the nullalternativ with a given overlay (``{}`` is the parameter files as
they are, "before"; the calibration's overlay is "after") for a list of seeds at each scale
asked, to the report's end year, and measures every target of ``targets.toml`` on every
run, over the fit's window and over the report's. The long tables it returns feed the
calibration report (``calibration.report``) and the closing numbers of a calibration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibration.evaluate import Evaluation, Overlay, evaluate_all
from calibration.targets import RunTables, Statistics, TargetSpec, Window, evaluate_targets

# Region series the report draws, by indicator (the region row of the indicator table).
SERIES = (
    "population",
    "population_projected_ssb",
    "households",
    "vacancy_rate",
    "mean_price_nok_per_m2",
    "jobs",
    "employed",
    "dwellings_built",
    "low_income_households_share",
)


@dataclass(frozen=True)
class Assessment:
    """Targets, municipal growth and region series of a set of runs (long tables)."""

    targets: pd.DataFrame  # state, scale, seed, horizon, target, error, tolerance, model, observed
    growth: pd.DataFrame  # state, scale, seed, kommunenummer, population, model_pct, observed_pct
    series: pd.DataFrame  # state, scale, seed, year, indicator, value


def assess(
    states: dict[str, Overlay],
    seeds: Sequence[int],
    scales: Sequence[float],
    window: Window,
    specs: list[TargetSpec],
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    stats: Statistics | None = None,
) -> Assessment:
    """Run every state (name -> overlay) for every seed and scale and measure the targets."""
    stats = stats or Statistics()
    report = progress or (lambda message: None)
    jobs = [(state, scale, seed) for state in states for scale in scales for seed in seeds]
    evaluations = [
        Evaluation(states[state], seed, scale, window.report_end_year)
        for state, scale, seed in jobs
    ]
    runs = evaluate_all(
        evaluations,
        executor,
        lambda done, total: report(f"assessing the fit: run {done}/{total}"),
    )
    targets, growth, series = [], [], []
    for (state, scale, seed), run in zip(jobs, runs, strict=True):
        keys = {"state": state, "scale": scale, "seed": seed}
        for horizon in (window.fit_end_year, window.report_end_year):
            for result in evaluate_targets(run, horizon, specs, window, stats):
                targets.append(
                    {
                        **keys,
                        "horizon": horizon,
                        "target": result.name,
                        "error": result.error,
                        "tolerance": result.tolerance,
                        "model": result.model,
                        "observed": result.observed,
                        "passed": result.passed,
                    }
                )
        growth.append(_growth(run, window, stats).assign(**keys))
        series.append(_series(run).assign(**keys))
    return Assessment(
        pd.DataFrame(targets),
        pd.concat(growth, ignore_index=True),
        pd.concat(series, ignore_index=True),
    )


def _growth(run: RunTables, window: Window, stats: Statistics) -> pd.DataFrame:
    """Each municipality's growth over the fit's window against 2019-2024, per cent a year."""
    population = run.panel("population")
    years = window.fit_end_year - window.base_year
    model = (population[window.fit_end_year] / population[window.base_year]) ** (1 / years) - 1
    observed = stats.growth(window.base_year - 5, window.base_year).reindex(model.index)
    return pd.DataFrame(
        {
            "kommunenummer": model.index,
            "population": population[window.base_year].to_numpy(),
            "model_pct": 100 * model.to_numpy(),
            "observed_pct": 100 * observed.to_numpy(),
        }
    )


def _series(run: RunTables) -> pd.DataFrame:
    """The region's series of ``SERIES`` (long form)."""
    table = run.indicators
    rows = table[(table["kommunenummer"] == "region") & table["indicator"].isin(SERIES)]
    return rows[["year", "indicator", "value"]].reset_index(drop=True)


def summary(assessment: Assessment, horizon: int) -> pd.DataFrame:
    """Per state, scale and target: mean error, its 5-95 % band over seeds, share passed."""
    table = assessment.targets[assessment.targets["horizon"] == horizon]
    grouped = table.groupby(["state", "scale", "target"], sort=False)
    return grouped.agg(
        error_mean=("error", "mean"),
        error_p05=("error", lambda e: float(np.nanpercentile(e, 5))),
        error_p95=("error", lambda e: float(np.nanpercentile(e, 95))),
        tolerance=("tolerance", "first"),
        model_mean=("model", "mean"),
        observed=("observed", "mean"),
        passed_share=("passed", "mean"),
    ).reset_index()
