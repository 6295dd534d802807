"""Fitting the baseline: solved municipal constants and an optimiser for the rest.

``calibrate`` alternates two blocks, ``passes`` times:

1. **Constants** (``calibration.constants``): per municipality, solved for their own
   statistic: the construction plan and margin shift and the commuting stay on the base
   year, then the housing and job location constants by a fixed point over the first
   years (averaged over the seeds).
2. **Behaviour** (the catalogue's ``fitted`` parameters): SciPy's differential evolution
   within the priors, minimising the objective of the fitted targets that no constant is
   solved for (vacancy, prices, jobs growth), the mean over the seeds of
   ``weight * (error / tolerance)^2``.

Why differential evolution: the priors are bounds, which it takes as they are; it needs no
gradient, which a stochastic model does not have (even with the same seeds the outputs move
in steps as households' choices flip); a population of candidates is evaluated at once, on
any map-like executor (a local process pool here; a distributed engine's map later); with
its seed and ``updating="deferred"`` the search is deterministic for a given seed list; and
it is part of SciPy, already a dependency. Each candidate is a plain function of its
parameter values and the seeds (``calibration.evaluate``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.optimize import differential_evolution

from calibration.catalogue import UncertainParameter, read_catalogue
from calibration.constants import (
    CAPACITY,
    COMMUTING,
    CONSTRUCTION,
    LocationRound,
    base_year_constants,
    location_constants,
    with_scalars,
    without,
)
from calibration.evaluate import Evaluation, Overlay, evaluate, write_parameter_folder
from calibration.targets import (
    Statistics,
    TargetSpec,
    Window,
    evaluate_targets,
    objective,
    read_targets,
)
from scenarios.runner import RunRequest, build_model
from scenarios.scenario import BASELINE, load_scenario


@dataclass(frozen=True)
class FitSettings:
    """How hard to fit: seeds, scale, rounds, passes and the optimiser's budget."""

    seeds: tuple[int, ...] = (1, 2)
    scale: float = 0.05
    constant_rounds: int = 6  # rounds of the location fixed point per pass
    passes: int = 2
    population_per_parameter: int = 2  # differential evolution's popsize
    generations: int = 3  # differential evolution's maxiter
    optimiser_seed: int = 2024


@dataclass
class FitResult:
    """What a calibration found: the overlay, the fitted values and how it went."""

    overlay: dict
    fitted: dict[str, float]  # catalogue name -> value
    objective_before: float
    objective_after: float
    location_rounds: list[LocationRound] = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0


def behaviour_targets(
    specs: list[TargetSpec], catalogue: list[UncertainParameter]
) -> list[TargetSpec]:
    """The fitted targets that no solved constant is solved for."""
    solved_for = {p.target for p in catalogue if p.role == "solved"}
    solved_for |= {"oslo_growth", "small_municipal_growth", "construction_region"}
    return [spec for spec in specs if spec.fitted and spec.name not in solved_for]


def candidate_objective(
    x: np.ndarray,
    keys: tuple[tuple[str, str], ...],
    overlay: Overlay,
    seeds: tuple[int, ...],
    scale: float,
    window: Window,
    specs: list[TargetSpec],
) -> float:
    """The mean objective over ``seeds`` of the overlay with ``keys`` set to ``x``.

    A plain module-level function of picklable arguments, so that a process pool (or a
    distributed engine) can run the optimiser's candidates.
    """
    candidate = with_scalars(overlay, dict(zip(keys, (float(v) for v in x), strict=True)))
    stats = Statistics()
    total = 0.0
    for seed in seeds:
        run = evaluate(Evaluation(candidate, seed, scale, window.fit_end_year))
        total += objective(evaluate_targets(run, window.fit_end_year, specs, window, stats), specs)
    return total / len(seeds)


def objective_of(
    overlay: Overlay,
    keys: tuple[tuple[str, str], ...],
    settings: FitSettings,
    window: Window,
    specs: list[TargetSpec],
) -> Callable[[np.ndarray], float]:
    """The optimiser's objective over the fitted parameters ``keys``, the rest from ``overlay``."""
    return functools.partial(
        candidate_objective,
        keys=keys,
        overlay=overlay,
        seeds=settings.seeds,
        scale=settings.scale,
        window=window,
        specs=specs,
    )


class CountingMap:
    """A map-like callable over an executor that reports each finished candidate."""

    def __init__(self, executor: Executor | None, report: Callable[[str], None]) -> None:
        """Map with ``executor`` (None: in this process) and report through ``report``."""
        self.executor = executor
        self.report = report
        self.done = 0

    def __call__(self, function, iterable) -> list[float]:
        """Apply ``function`` to every item, in order."""
        items = list(iterable)
        if self.executor is None:
            results = []
            for item in items:
                results.append(function(item))
                self._tick(len(results), len(items))
            return results
        futures = [self.executor.submit(function, item) for item in items]
        results = []
        for future in futures:
            results.append(future.result())
            self._tick(len(results), len(items))
        return results

    def _tick(self, finished: int, batch: int) -> None:
        self.done += 1
        self.report(f"optimiser: candidate {finished}/{batch} of this generation done")


def solve_constants(
    overlay: Overlay,
    settings: FitSettings,
    catalogue: list[UncertainParameter],
    window: Window,
    stats: Statistics,
    executor: Executor | None,
    report: Callable[[str], None],
) -> tuple[Overlay, list[LocationRound]]:
    """Block 1: base-year constants on a fresh base-year model, then the location fixed point."""
    import tempfile

    overlay = without(overlay, CAPACITY, CONSTRUCTION, COMMUTING)
    report("solving the construction plans and margins and the commuting stays (base year)")
    with tempfile.TemporaryDirectory(prefix="osloregion-calibration-") as folder:
        parameters = write_parameter_folder(overlay, Path(folder))
        request = RunRequest(scenario=BASELINE, seed=settings.seeds[0], scale=settings.scale)
        model = build_model(load_scenario(BASELINE), request, parameters_dir=parameters)
    overlay = base_year_constants(overlay, model, catalogue, stats, window)
    return location_constants(
        overlay,
        list(settings.seeds),
        settings.scale,
        window,
        settings.constant_rounds,
        executor,
        stats,
        report,
        bounds={p.key: p.prior for p in catalogue if p.role == "solved"},
    )


def calibrate(
    settings: FitSettings = FitSettings(),
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
    start: Overlay | None = None,
) -> FitResult:
    """Fit the baseline (see the module doc); returns the overlay to write as calibrated.toml.

    ``start`` is the overlay to begin from (default: none, the parameter files as they are).
    """
    report = progress or (lambda message: None)
    started = time.perf_counter()
    catalogue = read_catalogue()
    window, specs = read_targets()
    stats = Statistics()
    dynamic = behaviour_targets(specs, catalogue)
    fitted = [p for p in catalogue if p.role == "fitted"]
    keys = tuple(p.key for p in fitted)
    overlay: Overlay = dict(start or {})
    counter = CountingMap(executor, report)
    rounds: list[LocationRound] = []
    objective_before = float("nan")
    for pass_number in range(1, settings.passes + 1):
        report(f"pass {pass_number}/{settings.passes}: municipal constants")
        overlay, pass_rounds = solve_constants(
            overlay, settings, catalogue, window, stats, executor, report
        )
        rounds += pass_rounds
        function = objective_of(overlay, keys, settings, window, dynamic)
        current = np.array([_scalar_value(overlay, p) for p in fitted])
        if pass_number == 1:
            objective_before = function(current)
            report(f"objective of the behaviour targets before fitting: {objective_before:.3f}")
        report(
            f"pass {pass_number}/{settings.passes}: differential evolution over "
            f"{len(fitted)} parameters"
        )
        result = differential_evolution(
            function,
            bounds=[p.prior for p in fitted],
            popsize=settings.population_per_parameter,
            maxiter=settings.generations,
            seed=settings.optimiser_seed + pass_number,
            updating="deferred",
            workers=counter,
            polish=False,
            init="latinhypercube",
            x0=current,
            callback=lambda intermediate_result: report(
                f"optimiser: generation done, best objective {intermediate_result.fun:.3f}"
            ),
        )
        overlay = with_scalars(overlay, dict(zip(keys, (float(v) for v in result.x), strict=True)))
        report(f"pass {pass_number}: best objective {result.fun:.3f}")
    report("final pass: municipal constants at the fitted behaviour")
    overlay, final_rounds = solve_constants(
        overlay, settings, catalogue, window, stats, executor, report
    )
    rounds += final_rounds
    x = np.array([_scalar_value(overlay, p) for p in fitted])
    objective_after = objective_of(overlay, keys, settings, window, dynamic)(x)
    return FitResult(
        overlay=dict(overlay),
        fitted={p.name: float(v) for p, v in zip(fitted, x, strict=True)},
        objective_before=objective_before,
        objective_after=objective_after,
        location_rounds=rounds,
        evaluations=counter.done,
        seconds=time.perf_counter() - started,
    )


def _scalar_value(overlay: Overlay, parameter: UncertainParameter) -> float:
    """The overlay's value of ``parameter``, else the value of its file."""
    from calibration.catalogue import file_value

    value = overlay.get(parameter.file, {}).get(parameter.field)
    return float(value if value is not None else file_value(parameter))
