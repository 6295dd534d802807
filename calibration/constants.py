"""Constants solved per municipality, so that the base years reproduce what was observed.

As UrbanSim and SILO calibrate their location choices, the model's municipal constants are
not searched by the optimiser: each is solved directly for its own statistic.

* **Construction margin shift** (``construction.toml developers.margin_shift``): at
  base-year prices, each municipality's planned construction equals its mean net additions
  of 2015-2023 (SSB 06265). The plan rises monotonically with the shift, so a bisection per
  municipality finds it (within the catalogue's prior; a municipality whose zoned capacity
  cannot reach the target at full pace stays at the upper bound).
* **Commuting stay constant** (``commuting.toml stay_constant_by_municipality``): the
  gravity model's diagonal equals SSB 03321's residents working in their own municipality,
  with the 2022 margins, by the fixed point ``stay_i += log(observed_ii / model_ii)``.
* **Housing location constant** (``housing_market.toml choice.municipality_constant``)
  and the **job location constant** (``jobs.toml location_constant``): fixed points over
  runs of the first years, averaged over seeds. Each round moves a municipality's constant
  by the log of the arrivals (job creation) it would need over those it got, for its
  population (jobs) to grow as in 2019-2024 (2017-2022) relative to the region; the
  region's own total is the model's (SSB's projection for population, the labour supply
  for jobs), so only the pattern is solved, never the level.
* **Leaving-home factor** (``demography.toml household_formation.leave_factor``): in the
  same rounds, a municipality whose vacancy rose has too few households for its dwellings,
  so its young adults leave home more (and less where vacancy fell), until households grow
  with the dwellings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from calibration.catalogue import UncertainParameter
from calibration.evaluate import Evaluation, Overlay, evaluate_all
from calibration.targets import RunTables, Statistics, Window
from model.commuting import gravity, observed_matrix
from model.construction import Construction
from model.parameters import municipal_values
from model.region_model import RegionModel

CONSTRUCTION = ("construction.toml", "developers.margin_shift")
CAPACITY = ("construction.toml", "zoning.capacity_factor")
# A municipality's plan must let it build its 2015-2023 pace at this share of the full pace.
PLAN_USE_AT_TARGET = 0.6
COMMUTING = ("commuting.toml", "stay_constant_by_municipality")
HOUSING = ("housing_market.toml", "choice.municipality_constant")
JOBS = ("jobs.toml", "location_constant")
LEAVE = ("demography.toml", "household_formation.leave_factor")
# A round multiplies a leaving factor by exp(this * points of vacancy drift), at most by
# exp(MAX_STEP): a municipality whose vacancy rose has too few households for its dwellings.
LEAVE_STEP_PER_POINT = 0.3
# The location constants describe the base year's market, not its adjustment: they are
# solved with the price responses switched off, at base-year prices.
PRICES_FIXED = {
    ("housing_market.toml", "prices.vacancy_response"): 0.0,
    ("housing_market.toml", "prices.demand_response"): 0.0,
}
# A round moves a location constant by at most this much (utility), and by this share of the
# full step: the arrivals answer a constant less than one to one.
MAX_STEP = 0.5
DAMPING = 0.8


def with_scalars(overlay: Overlay, values: dict[tuple[str, str], float]) -> Overlay:
    """A copy of ``overlay`` with scalar fields (file, dotted field) set to ``values``."""
    result = copy.deepcopy({name: dict(fields) for name, fields in overlay.items()})
    for (file_name, field), value in values.items():
        result.setdefault(file_name, {})[field] = float(value)
    return result


def with_values(overlay: Overlay, key: tuple[str, str], values: dict[str, float]) -> Overlay:
    """A copy of ``overlay`` with field ``key`` = (file, dotted field) set to ``values``."""
    result = copy.deepcopy({name: dict(fields) for name, fields in overlay.items()})
    result.setdefault(key[0], {})[key[1]] = {code: float(v) for code, v in values.items()}
    return result


def plan_capacity_factor(model: RegionModel, target_per_year: pd.Series) -> dict[str, float]:
    """Per municipality: how much larger its plan must be to carry ``target_per_year``.

    At least 1; above 1 where building the target would take more than
    ``PLAN_USE_AT_TARGET`` of the full pace (``build_share_per_year`` of the base-year
    capacity). ``model`` must be built without capacity factors.
    """
    codes = model.world.codes
    target = np.maximum(target_per_year.reindex(list(codes)).fillna(0.0).to_numpy(float), 0.0)
    capacity = np.bincount(
        model.world.cell_municipality, model.zoning.capacity_dwellings, len(codes)
    )
    full_pace = model.construction.params.developers.build_share_per_year * capacity
    needed = np.divide(
        target, PLAN_USE_AT_TARGET * full_pace, out=np.ones(len(codes)), where=full_pace > 0
    )
    return {
        code: round(float(v), 3) for code, v in zip(codes, np.maximum(needed, 1.0), strict=True)
    }


def scale_plans(model: RegionModel, factor: dict[str, float]) -> None:
    """Multiply the zoned capacity and plan of each municipality's cells by its factor."""
    by_cell = municipal_values(factor, model.world.codes, 1.0)[model.world.cell_municipality]
    model.zoning.capacity_dwellings = model.zoning.capacity_dwellings * by_cell
    model.zoning.planned_dwellings = model.zoning.planned_dwellings * by_cell


def construction_margin_shift(
    model: RegionModel, target_per_year: pd.Series, prior: tuple[float, float]
) -> dict[str, float]:
    """The margin shift per municipality that makes base-year plans equal ``target_per_year``.

    ``model`` is a base-year model (not stepped); the target is in dwellings a year by
    municipality number (negative targets count as 0).
    """
    codes = model.world.codes
    target = np.maximum(target_per_year.reindex(list(codes)).fillna(0.0).to_numpy(float), 0.0)
    low, high = np.full(len(codes), prior[0]), np.full(len(codes), prior[1])
    construction = model.construction
    cell_municipality = model.world.cell_municipality
    for _ in range(40):
        middle = 0.5 * (low + high)
        shifted = replace(
            construction.params,
            developers=replace(
                construction.params.developers, margin_shift=dict(zip(codes, middle, strict=True))
            ),
        )
        planned, _, _ = Construction(
            shifted, construction.levers, construction.rng, construction.density
        ).planned(model.world, model.dwellings, model.zoning, model.dwellings.price_nok_per_m2)
        built = np.bincount(cell_municipality, planned, len(codes))
        too_much = built > target
        high = np.where(too_much, middle, high)
        low = np.where(too_much, low, middle)
    return {code: round(float(v), 4) for code, v in zip(codes, 0.5 * (low + high), strict=True)}


def commuting_stay_constants(model: RegionModel, iterations: int = 200) -> dict[str, float]:
    """The stay constant per municipality that reproduces 03321's diagonal (2022 margins)."""
    codes = list(model.world.codes)
    observed, origins, destinations = observed_matrix(model.bundle, codes)
    params = model.travel.commuting_params
    cost = model.travel.commuting_cost_min
    stay = np.zeros(len(codes))
    diagonal = np.diag(observed)
    has_diagonal = diagonal > 0
    for _ in range(iterations):
        fitted = replace(params, stay_constant_by_municipality=dict(zip(codes, stay, strict=True)))
        flows = gravity(origins, destinations, cost, fitted, codes)
        gap = np.zeros(len(codes))
        gap[has_diagonal] = np.log(diagonal[has_diagonal] / np.diag(flows)[has_diagonal])
        stay += gap
        if np.abs(gap).max() < 1e-7:
            break
    return {code: round(float(v), 5) for code, v in zip(codes, stay, strict=True)}


@dataclass(frozen=True)
class LocationRound:
    """One round of the location fixed point: how far growth is from the pattern."""

    round_number: int
    population_error_pp: float  # population-weighted mean |growth - target|, pp a year
    jobs_error_pp: float  # job-weighted mean |job growth - target|, pp a year
    vacancy_error_points: float = float("nan")  # dwelling-weighted mean |vacancy drift|


def _mean_tables(runs: list[RunTables], indicators: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Municipality x year panels of ``indicators``, averaged over the runs (seeds)."""
    return {
        name: sum(run.panel(name) for run in runs) / len(runs)  # type: ignore[misc]
        for name in indicators
    }


def leave_update(
    factors: pd.Series, panels: dict[str, pd.DataFrame], window: Window
) -> tuple[pd.Series, float]:
    """New leaving factors and the vacancy drift (points, dwelling-weighted mean |drift|).

    Where vacancy rose over the window (the mean of its years against the base year),
    too few households formed for the dwellings: young adults there leave home more.
    """
    vacancy = panels["vacancy_rate"]
    years = [y for y in vacancy.columns if window.base_year < y <= window.fit_end_year]
    drift = 100 * vacancy[years].mean(axis=1).sub(vacancy[window.base_year])
    step = (LEAVE_STEP_PER_POINT * drift).clip(-MAX_STEP, MAX_STEP)
    stock = panels["dwellings"][window.base_year]
    error = float((drift.abs() * stock).sum() / stock.sum())
    return factors * np.exp(step), error


def _constants(
    overlay: Overlay, key: tuple[str, str], codes: pd.Index, default: float = 0.0
) -> pd.Series:
    """The overlay's table ``key`` by municipality of ``codes`` (``default`` where none)."""
    values = pd.Series(overlay.get(key[0], {}).get(key[1], {}), dtype=float)
    return values.reindex(codes).fillna(default)


def _step(current: pd.Series, have: pd.Series, need: pd.Series) -> pd.Series:
    """A damped log step of the constants: ``log(need / have)``, floored and clipped."""
    need = np.maximum(need, 0.2 * have)
    step = DAMPING * np.log(need / have.where(have > 0, np.nan)).fillna(0.0)
    return current + step.clip(-MAX_STEP, MAX_STEP)


def housing_update(
    constants: pd.Series, panels: dict[str, pd.DataFrame], stats: Statistics, window: Window
) -> tuple[pd.Series, float]:
    """New housing constants and the current growth error (pp a year, population-weighted)."""
    base, end = window.base_year, window.fit_end_year
    years = end - base
    population = panels["population"]
    codes = population.index
    trend = stats.growth(base - 5, base).reindex(codes)
    growth = (population[end] - population[base]) / years
    start = population[base]
    # the pattern of 2019-2024 around the model's own regional growth
    shift = float((start * trend).sum() - growth.sum()) / float(start.sum())
    wanted = start * ((1.0 + trend - shift) ** years - 1.0) / years
    flows = [y for y in population.columns if base <= y < end]
    arrivals = (panels["in_migrants"][flows] + panels["moved_in"][flows]).mean(axis=1)
    new = _step(constants, arrivals, arrivals + wanted - growth)
    new -= float((new * start).sum() / start.sum())
    model_rate = (population[end] / start) ** (1.0 / years) - 1.0
    error = float(((model_rate - trend).abs() * start).sum() / start.sum())
    return new, 100 * error


def jobs_update(
    constants: pd.Series, panels: dict[str, pd.DataFrame], stats: Statistics, window: Window
) -> tuple[pd.Series, float]:
    """New job constants and the current pattern error (pp a year, job-weighted)."""
    base, end = window.base_year, window.fit_end_year
    years = end - base
    jobs = panels["jobs"]
    codes = jobs.index
    start = jobs[base]
    observed = stats.job_growth().reindex(codes)
    history = stats.employment.pivot(
        index="kommunenummer", columns="year", values="jobs_by_workplace"
    ).reindex(codes)
    first, last = int(history.columns.min()), int(history.columns.max())
    observed_region = (history[last].sum() / history[first].sum()) ** (1 / (last - first)) - 1
    model_region = (jobs[end].sum() / start.sum()) ** (1 / years) - 1
    wanted_rate = model_region + (observed - observed_region)
    wanted = start * ((1.0 + wanted_rate) ** years - 1.0) / years
    growth = (jobs[end] - start) / years
    flows = [y for y in jobs.columns if base <= y < end]
    created = panels["jobs_created"][flows].mean(axis=1)
    new = _step(constants, created, created + wanted - growth)
    new -= float((new * start).sum() / start.sum())
    model_rate = (jobs[end] / start) ** (1.0 / years) - 1.0
    error = float(
        (((model_rate - model_region) - (observed - observed_region)).abs() * start).sum()
        / start.sum()
    )
    return new, 100 * error


def location_constants(
    overlay: Overlay,
    seeds: list[int],
    scale: float,
    window: Window,
    rounds: int,
    executor: Executor | None = None,
    stats: Statistics | None = None,
    progress: Callable[[str], None] | None = None,
    bounds: dict[tuple[str, str], tuple[float, float]] | None = None,
) -> tuple[Overlay, list[LocationRound]]:
    """Solve the housing and job location constants by ``rounds`` rounds of the fixed point.

    Starts from the constants already in ``overlay`` (0 where none); returns the overlay
    with the constants of the best round (the smallest sum of the two errors) and the
    history of the rounds. ``bounds`` (the catalogue's priors by (file, field)) clip them.
    """
    bounds = bounds or {}
    low_h, high_h = bounds.get(HOUSING, (-np.inf, np.inf))
    low_j, high_j = bounds.get(JOBS, (-np.inf, np.inf))
    low_l, high_l = bounds.get(LEAVE, (0.0, np.inf))
    stats = stats or Statistics()
    report = progress or (lambda message: None)
    history, best, best_error = [], overlay, np.inf
    for round_number in range(rounds + 1):
        at_base_prices = with_scalars(overlay, PRICES_FIXED)
        runs = evaluate_all(
            [Evaluation(at_base_prices, seed, scale, window.fit_end_year) for seed in seeds],
            executor,
        )
        panels = _mean_tables(
            runs,
            (
                "population",
                "in_migrants",
                "moved_in",
                "jobs",
                "jobs_created",
                "vacancy_rate",
                "dwellings",
            ),
        )
        codes = panels["population"].index
        new_housing, population_error = housing_update(
            _constants(overlay, HOUSING, codes), panels, stats, window
        )
        leave = _constants(overlay, LEAVE, codes, default=1.0)
        new_leave, vacancy_error = leave_update(leave, panels, window)
        new_jobs, jobs_error = jobs_update(_constants(overlay, JOBS, codes), panels, stats, window)
        history.append(LocationRound(round_number, population_error, jobs_error, vacancy_error))
        report(
            f"location constants, round {round_number}/{rounds}: population growth off by "
            f"{population_error:.2f} pp a year, vacancy by {vacancy_error:.2f} points, "
            f"job growth pattern by {jobs_error:.2f} pp"
        )
        total_error = population_error + jobs_error + vacancy_error
        if total_error < best_error:
            best, best_error = overlay, total_error
        if round_number == rounds:
            break
        overlay = with_values(overlay, HOUSING, dict(new_housing.clip(low_h, high_h).round(4)))
        overlay = with_values(overlay, JOBS, dict(new_jobs.clip(low_j, high_j).round(4)))
        overlay = with_values(overlay, LEAVE, dict(new_leave.clip(low_l, high_l).round(4)))
    return best, history


def without(overlay: Overlay, *keys: tuple[str, str]) -> Overlay:
    """A copy of ``overlay`` without the fields ``keys``."""
    result = {name: dict(fields) for name, fields in overlay.items()}
    for file_name, field in keys:
        result.get(file_name, {}).pop(field, None)
    return {name: fields for name, fields in result.items() if fields}


def base_year_constants(
    overlay: Overlay,
    model: RegionModel,
    catalogue: list[UncertainParameter],
    stats: Statistics,
    window: Window,
) -> Overlay:
    """The overlay with the plan factors, margin shifts and commuting stays solved on ``model``.

    ``model`` must be a base-year model built with ``overlay`` less those three fields
    (``without``): the plans need its zoning, the shifts its prices, zoning and stock, the
    stays its travel costs. The model's zoning is scaled in place.
    """
    target = stats.net_additions_per_year(2015, window.base_year - 1)
    low, high = next(p.prior for p in catalogue if p.key == CAPACITY)
    factor = {
        code: min(max(value, low), high)
        for code, value in plan_capacity_factor(model, target).items()
    }
    scale_plans(model, factor)
    prior = next(p.prior for p in catalogue if p.key == CONSTRUCTION)
    overlay = with_values(overlay, CAPACITY, factor)
    overlay = with_values(overlay, CONSTRUCTION, construction_margin_shift(model, target, prior))
    return with_values(overlay, COMMUTING, commuting_stay_constants(model))
