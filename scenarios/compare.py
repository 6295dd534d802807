"""Scenarios compared with the nullalternativ over seeds, scored on the seven-step scale.

``osloregion compare baseline ringeriksbanen --seeds 5`` runs (or reuses) every scenario
with seeds 1..N and pairs the seeds: the effect of a scenario in seed ``s`` is its value
minus the reference's value in seed ``s``, so the noise both runs share cancels out. Per
scenario, indicator, area (the region or a municipality) and year the comparison reports the
means, the mean difference and its 5-95 % band over the seeds, and a score on the scale of
Norwegian impact assessment (``---`` to ``+++``) read from ``data/parameters/scorecard.toml``:

* ``0`` when the effect is within the seed noise: the band contains 0 (with a few seeds
  the band reaches almost to the extreme seeds, so roughly, the seeds disagree on the
  sign), or the mean difference is no larger than the reference's own spread over the
  seeds (half its 5-95 % range: what one seed differs from another without any lever);
* ``0`` also when the mean difference is below the first threshold;
* otherwise one to three signs by the thresholds (relative change for counts and amounts,
  points for shares), ``+`` meaning better for indicators with a direction and more for
  those without (the column ``sign_means`` says which).

The pure part (``seed_statistics``, ``score_effects``, ``compare_values``,
``compare_tables``) works on arrays and tables; ``compare_scenarios`` finds or runs the runs
on a local process pool and writes ``<runs>/comparisons/<stamp>-<ref>-vs-<names>/``
atomically: ``comparison.parquet``, ``manifest.json`` and ``comparison.html``.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from model.bundle import load_bundle
from model.parameters import PARAMETERS_DIR, ParameterError, read_parameter_file
from scenarios.runner import BASELINE, RunRequest, code_version, find_or_run, find_run
from scenarios.scenario import load_scenario, scenario_hash
from scenarios.store import INCOMPLETE_PREFIX, MANIFEST, StoredRun, remove_abandoned, write_parquet

SCORECARD_PATH = PARAMETERS_DIR / "scorecard.toml"
SCALE = ("---", "--", "-", "0", "+", "++", "+++")
BETTER = ("higher", "lower", "none")
THRESHOLD_KINDS = ("relative", "points")
REGION = "region"
KEYS = ["indicator", "kommunenummer", "year"]
COLUMNS = [
    "scenario",
    "reference",
    "indicator",
    "kommunenummer",
    "year",
    "unit",
    "better",
    "sign_means",
    "threshold",
    "reference_mean",
    "scenario_mean",
    "difference_mean",
    "difference_p05",
    "difference_p95",
    "relative_difference",
    "n_seeds",
    "reference_noise",
    "within_noise",
    "score",
]
MUNICIPAL_EFFECTS = ("population", "commute_car_vehicle_km")
TOP_MUNICIPALITIES = 5
COMPARISONS_FOLDER = "comparisons"

Progress = Callable[[str, int, int], None]
Log = Callable[[str], None]


# ---- the scorecard ------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRule:
    """How one indicator is scored: its direction, threshold kind and headline labels."""

    better: str
    threshold: str | None = None  # None: chosen by the indicator's unit
    headline: bool = False
    label_nb: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Scorecard:
    """Thresholds and per-indicator rules read from ``data/parameters/scorecard.toml``."""

    thresholds: dict[str, tuple[float, ...]]
    default_better: str
    default_threshold: str
    points_units: tuple[str, ...]
    rules: dict[str, IndicatorRule]
    path: Path = SCORECARD_PATH

    def better(self, indicator: str) -> str:
        """``higher``, ``lower`` or ``none`` (the default for an unlisted indicator)."""
        rule = self.rules.get(indicator)
        return rule.better if rule is not None else self.default_better

    def threshold_kind(self, indicator: str, unit: str) -> str:
        """``relative`` or ``points``: the rule's own, else by unit, else the default."""
        rule = self.rules.get(indicator)
        if rule is not None and rule.threshold is not None:
            return rule.threshold
        return "points" if unit in self.points_units else self.default_threshold

    def headlines(self) -> list[str]:
        """The headline indicators, in the file's order."""
        return [name for name, rule in self.rules.items() if rule.headline]

    def label(self, indicator: str, language: str = "en") -> str:
        """The indicator's label in ``nb`` or ``en``; its name when it has none."""
        rule = self.rules.get(indicator)
        text = "" if rule is None else (rule.label_nb if language == "nb" else rule.label_en)
        return text or indicator


def load_scorecard(path: Path = SCORECARD_PATH) -> Scorecard:
    """Read and check the scorecard; a bad field is refused with the file and field."""
    table = read_parameter_file(path)
    thresholds: dict[str, tuple[float, ...]] = {}
    for kind in THRESHOLD_KINDS:
        steps = table.get("thresholds", {}).get(kind)
        if (
            not isinstance(steps, list)
            or len(steps) != 3
            or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in steps)
            or not 0 < steps[0] < steps[1] < steps[2]
        ):
            raise ParameterError(
                f"{path}: field 'thresholds.{kind}' is {steps!r}; allowed: three increasing "
                "positive numbers"
            )
        thresholds[kind] = tuple(float(s) for s in steps)
    default = table.get("default", {})
    default_better = _choice(path, "default.better", default.get("better"), BETTER)
    default_threshold = _choice(
        path, "default.threshold", default.get("threshold"), THRESHOLD_KINDS
    )
    points_units = default.get("points_units", [])
    if not isinstance(points_units, list) or not all(isinstance(u, str) for u in points_units):
        raise ParameterError(f"{path}: field 'default.points_units' must be a list of units")
    rules = {}
    for name, entry in table.get("indicators", {}).items():
        where = f"indicators.{name}"
        unknown = set(entry) - {"better", "threshold", "headline", "label"}
        if unknown:
            raise ParameterError(
                f"{path}: field '{where}.{sorted(unknown)[0]}' is unknown; allowed: better, "
                "threshold, headline, label"
            )
        better = _choice(path, f"{where}.better", entry.get("better"), BETTER)
        kind = entry.get("threshold")
        if kind is not None:
            _choice(path, f"{where}.threshold", kind, THRESHOLD_KINDS)
        headline = entry.get("headline", False)
        label = entry.get("label", {})
        if headline is not True and headline is not False:
            raise ParameterError(f"{path}: field '{where}.headline' is {headline!r}; allowed: bool")
        if headline and not (
            isinstance(label, dict)
            and all(isinstance(label.get(language), str) for language in ("nb", "en"))
        ):
            raise ParameterError(
                f"{path}: field '{where}.label' is {label!r}; a headline needs "
                "{ nb = ..., en = ... }"
            )
        rules[name] = IndicatorRule(
            better=better,
            threshold=kind,
            headline=headline,
            label_nb=label.get("nb", "") if isinstance(label, dict) else "",
            label_en=label.get("en", "") if isinstance(label, dict) else "",
        )
    return Scorecard(
        thresholds=thresholds,
        default_better=default_better,
        default_threshold=default_threshold,
        points_units=tuple(points_units),
        rules=rules,
        path=path,
    )


def _choice(path: Path, where: str, value: Any, allowed: Sequence[str]) -> str:
    """``value`` if it is one of ``allowed``, else a ParameterError naming the field."""
    if value not in allowed:
        raise ParameterError(
            f"{path}: field '{where}' is {value!r}; allowed: {', '.join(map(repr, allowed))}"
        )
    return str(value)


# ---- the pure part: statistics and scores ---------------------------------------------------


def seed_statistics(reference: np.ndarray, scenario: np.ndarray) -> dict[str, np.ndarray]:
    """Paired statistics of two (rows × seeds) arrays, seed by seed.

    A seed counts for a row when both values are finite. Returns per row: ``reference_mean``,
    ``scenario_mean``, ``difference_mean``, ``difference_p05`` and ``difference_p95``
    (quantiles of the per-seed differences, linear interpolation), ``relative_difference``
    (the mean difference over |reference mean|; NaN when that is 0), ``n_seeds``,
    ``reference_noise`` (half the 5-95 % range of the reference's own values over the seeds:
    how much one seed of the reference differs from another) and ``within_noise`` (the
    5-95 % band of the differences contains 0, or the mean difference is no larger than the
    reference's noise, or fewer than two seeds count).
    """
    reference = np.atleast_2d(np.asarray(reference, dtype=float))
    scenario = np.atleast_2d(np.asarray(scenario, dtype=float))
    differences = scenario - reference
    valid = np.isfinite(differences)
    n_seeds = valid.sum(axis=1)
    masked = np.where(valid, differences, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without a valid seed
        reference_mean = np.nanmean(np.where(valid, reference, np.nan), axis=1)
        scenario_mean = np.nanmean(np.where(valid, scenario, np.nan), axis=1)
        difference_mean = np.nanmean(masked, axis=1)
        # np.quantile is vectorised; np.nanquantile loops over rows, so only where needed.
        p05, p95 = _quantiles(masked, valid)
        reference_p05, reference_p95 = _quantiles(np.where(valid, reference, np.nan), valid)
    scale = np.abs(reference_mean)
    relative = np.full(len(reference_mean), np.nan)
    np.divide(difference_mean, scale, out=relative, where=scale > 0)
    reference_noise = (reference_p95 - reference_p05) / 2.0
    within_noise = (
        ~((p05 > 0) | (p95 < 0)) | (np.abs(difference_mean) <= reference_noise) | (n_seeds < 2)
    )
    return {
        "reference_mean": reference_mean,
        "scenario_mean": scenario_mean,
        "difference_mean": difference_mean,
        "difference_p05": p05,
        "difference_p95": p95,
        "relative_difference": relative,
        "n_seeds": n_seeds,
        "reference_noise": reference_noise,
        "within_noise": within_noise,
    }


def _quantiles(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 5 % and 95 % quantiles of each row's valid values (linear interpolation).

    ``np.quantile`` is vectorised; ``np.nanquantile`` loops over rows, so it is used only
    for rows with a missing seed.
    """
    p05, p95 = np.full((2, len(values)), np.nan)
    complete = valid.all(axis=1)
    p05[complete], p95[complete] = np.quantile(values[complete], [0.05, 0.95], axis=1)
    if not complete.all():
        p05[~complete], p95[~complete] = np.nanquantile(values[~complete], [0.05, 0.95], axis=1)
    return p05, p95


def effect_steps(magnitude: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """How many of the (increasing) thresholds each magnitude reaches, 0 to 3; NaN reaches none."""
    magnitude = np.asarray(magnitude, dtype=float)
    steps = np.zeros(magnitude.shape, dtype=int)
    for threshold in thresholds:
        steps += magnitude >= threshold
    return steps


def score_effects(
    difference_mean: np.ndarray,
    reference_mean: np.ndarray,
    within_noise: np.ndarray,
    better: np.ndarray | str,
    kind: np.ndarray | str,
    thresholds: Mapping[str, Sequence[float]],
) -> np.ndarray:
    """Scores ``---`` .. ``+++`` per row.

    The magnitude is |difference| / |reference| for ``kind == "relative"`` (unbounded when
    the reference is 0 and the difference is not) and |difference| for ``"points"``. Within
    the noise or below the first threshold: ``"0"``. For ``better == "lower"`` a decrease is
    ``+``; for ``"higher"`` and ``"none"`` an increase is.
    """
    difference_mean = np.asarray(difference_mean, dtype=float)
    reference_mean = np.asarray(reference_mean, dtype=float)
    shape = difference_mean.shape
    better = np.broadcast_to(np.asarray(better), shape)
    kind = np.broadcast_to(np.asarray(kind), shape)
    size = np.abs(difference_mean)
    scale = np.abs(reference_mean)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(scale > 0, size / scale, np.where(size > 0, np.inf, 0.0))
    relative = np.where(np.isnan(reference_mean), np.nan, relative)
    magnitude = np.where(kind == "points", size, relative)
    steps = np.zeros(shape, dtype=int)
    for name, steps_of_kind in thresholds.items():
        mask = kind == name
        steps[mask] = effect_steps(magnitude[mask], steps_of_kind)
    steps[np.asarray(within_noise, dtype=bool)] = 0
    direction = np.sign(np.nan_to_num(difference_mean)).astype(int)
    direction = np.where(better == "lower", -direction, direction)
    return np.asarray(SCALE, dtype=object)[3 + direction * steps].astype(str)


def compare_values(
    reference: np.ndarray,
    scenario: np.ndarray,
    better: np.ndarray | str,
    kind: np.ndarray | str,
    thresholds: Mapping[str, Sequence[float]],
) -> pd.DataFrame:
    """Statistics and score of (rows × seeds) values: one row per input row."""
    stats = seed_statistics(reference, scenario)
    stats["score"] = score_effects(
        stats["difference_mean"],
        stats["reference_mean"],
        stats["within_noise"],
        better,
        kind,
        thresholds,
    )
    return pd.DataFrame(stats)


def compare_tables(
    reference: pd.DataFrame, scenario: pd.DataFrame, scorecard: Scorecard
) -> pd.DataFrame:
    """Compare two long indicator tables with a ``seed`` column, seed by seed.

    Each table has the columns of a run's indicators table plus ``seed``. Every indicator,
    area and year of either table gives one row (a value missing in one of them counts as
    missing for that seed), sorted by indicator, area (the region first) and year.
    """
    seeds = sorted(set(reference["seed"]) | set(scenario["seed"]))
    wide = [_seed_columns(table, seeds) for table in (reference, scenario)]
    index = wide[0].index.union(wide[1].index)
    values = [frame.reindex(index) for frame in wide]
    units = (
        pd.concat([reference, scenario])
        .drop_duplicates(KEYS)
        .set_index(KEYS)["unit"]
        .reindex(index)
        .astype(str)
    )
    rows = index.to_frame(index=False)
    rows["unit"] = units.to_numpy()
    rows["better"] = rows["indicator"].map(scorecard.better)
    rows["sign_means"] = np.where(rows["better"] == "none", "more", "better")
    rows["threshold"] = [
        scorecard.threshold_kind(name, unit)
        for name, unit in zip(rows["indicator"], rows["unit"], strict=True)
    ]
    stats = compare_values(
        values[0].to_numpy(),
        values[1].to_numpy(),
        rows["better"].to_numpy(),
        rows["threshold"].to_numpy(),
        scorecard.thresholds,
    )
    result = pd.concat([rows, stats], axis=1)
    result["year"] = result["year"].astype(int)
    order = result["kommunenummer"].where(result["kommunenummer"] != REGION, "")
    result = result.assign(_area=order).sort_values(["indicator", "_area", "year"])
    return result.drop(columns="_area").reset_index(drop=True)


def _seed_columns(table: pd.DataFrame, seeds: list[int]) -> pd.DataFrame:
    """A long table as one column of values per seed, indexed by indicator, area and year."""
    wide = table.set_index([*KEYS, "seed"])["value"].unstack("seed")
    return wide.reindex(columns=seeds)


# ---- finding or running the runs ------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRequest:
    """What to compare: scenarios (the first is the reference), seeds 1..N, scale, years."""

    scenarios: tuple[str, ...]
    seeds: int = 5
    scale: float = 0.05
    start: int = 2024
    end: int = 2030
    region: str = "osloregionen"
    data_dir: Path | None = None
    workers: int | None = None  # None: the number of CPUs


@dataclass(frozen=True)
class RunOutcome:
    """A stored run of a comparison, whether it was reused, and the wall time to get it."""

    run: StoredRun
    reused: bool
    seconds: float


@dataclass(frozen=True)
class ComparedScenario:
    """One scenario of a comparison: as given, resolved, and its hash."""

    source: str
    scenario: dict[str, Any]
    hash: str

    @property
    def name(self) -> str:
        """The scenario's name (its ``name`` field)."""
        return str(self.scenario["name"])


@dataclass(frozen=True)
class Comparison:
    """A written comparison: its folder, table and manifest, and what prints it."""

    path: Path
    table: pd.DataFrame
    manifest: dict[str, Any]
    scorecard: Scorecard
    municipality_names: dict[str, str] = field(default_factory=dict)


def stderr_line(line: str) -> None:
    """One progress line on standard error, clearing a progress bar on a terminal."""
    prefix = "\r\033[K" if sys.stderr.isatty() else ""
    print(prefix + line, file=sys.stderr, flush=True)


def compare_scenarios(
    request: ComparisonRequest,
    runs_dir: Path,
    progress: Progress | None = None,
    log: Log | None = None,
    scorecard: Scorecard | None = None,
) -> Comparison:
    """Find or run every scenario and seed, compare them with the first, write the result.

    ``progress(message, done, total)`` shows the years of a run simulated in this process;
    ``log(line)`` gets one line per finished run. A bad request (fewer than two scenarios or
    seeds, an unknown scenario, impossible years) raises before anything runs or is written.
    """
    scenarios, bundle = _check_request(request)
    scorecard = scorecard or load_scorecard()
    outcomes = ensure_runs(request, scenarios, runs_dir, progress, log)
    seeds = list(range(1, request.seeds + 1))
    indicators = {
        key: _indicators(outcome.run, request.start, request.end, key[1])
        for key, outcome in outcomes.items()
    }
    reference = scenarios[0]
    tables = []
    for compared in scenarios[1:]:
        table = compare_tables(
            pd.concat([indicators[(reference.hash, s)] for s in seeds], ignore_index=True),
            pd.concat([indicators[(compared.hash, s)] for s in seeds], ignore_index=True),
            scorecard,
        )
        table.insert(0, "reference", reference.name)
        table.insert(0, "scenario", compared.name)
        tables.append(table[COLUMNS])
    table = pd.concat(tables, ignore_index=True)
    created = datetime.now(UTC)
    manifest = _manifest(request, scenarios, outcomes, scorecard, created)
    path = write_comparison(runs_dir, _folder_name(scenarios, created), table, manifest, scorecard)
    names = dict(
        zip(
            bundle["municipalities.csv"]["kommunenummer"],
            bundle["municipalities.csv"]["kommunenavn"],
            strict=True,
        )
    )
    return Comparison(path, table, manifest, scorecard, names)


def _check_request(request: ComparisonRequest) -> tuple[list[ComparedScenario], Any]:
    """The resolved scenarios and the data bundle; a ValueError for a bad request."""
    if len(request.scenarios) < 2:
        raise ValueError(
            f"compare needs two or more scenarios (the reference first), got "
            f"{len(request.scenarios)}: {' '.join(request.scenarios)}"
        )
    if request.seeds < 2:
        raise ValueError(
            f"--seeds is {request.seeds}; needs 2 or more: the seed noise cannot be "
            "estimated from one seed"
        )
    if request.workers is not None and request.workers < 1:
        raise ValueError(f"--workers is {request.workers}; needs 1 or more")
    scenarios = []
    for source in request.scenarios:
        scenario = load_scenario(source)
        scenarios.append(ComparedScenario(source, scenario, scenario_hash(scenario)))
    compared = [s.name for s in scenarios[1:]]
    duplicates = sorted({name for name in compared if compared.count(name) > 1})
    if duplicates:
        raise ValueError(f"scenario {duplicates[0]} is compared twice; give it once")
    bundle = load_bundle(request.data_dir)
    if not bundle.base_year <= request.start <= request.end:
        raise ValueError(
            f"years: start {request.start} and end {request.end} must satisfy "
            f"{bundle.base_year} (the bundle's base year) <= start <= end"
        )
    return scenarios, bundle


def ensure_runs(
    request: ComparisonRequest,
    scenarios: Sequence[ComparedScenario],
    runs_dir: Path,
    progress: Progress | None = None,
    log: Log | None = None,
) -> dict[tuple[str, int], RunOutcome]:
    """Find or run each scenario (by hash) and seed; return them keyed by (hash, seed).

    When any scenario is not the baseline, the baseline runs of every seed come first: each
    other scenario takes the stored baseline of its seed as the reference path of its climate
    budgets, and two processes must not run the same baseline at once.
    """
    baseline_hash = scenario_hash(load_scenario(BASELINE))
    jobs: dict[tuple[str, int], tuple[RunRequest, str]] = {}
    for seed in range(1, request.seeds + 1):
        for scenario in scenarios:
            jobs.setdefault(
                (scenario.hash, seed), (_run_request(request, scenario.source, seed), scenario.name)
            )
    first: dict[tuple[str, int], tuple[RunRequest, str]] = {}
    if any(scenario.hash != baseline_hash for scenario in scenarios):
        for seed in range(1, request.seeds + 1):
            key = (baseline_hash, seed)
            first[key] = jobs.pop(key, (_run_request(request, BASELINE, seed), BASELINE))
    counter = _Counter(len(first) + len(jobs), log)
    outcomes = {}
    for phase in (first, jobs):
        outcomes.update(_run_phase(phase, runs_dir, request.workers, progress, counter))
    return outcomes


def _run_request(request: ComparisonRequest, scenario: str, seed: int) -> RunRequest:
    """The run of ``scenario`` and ``seed`` with the comparison's scale, years and region."""
    return RunRequest(
        scenario=scenario,
        seed=seed,
        scale=request.scale,
        start=request.start,
        end=request.end,
        region=request.region,
        data_dir=request.data_dir,
    )


class _Counter:
    """Counts finished runs and logs one line for each."""

    def __init__(self, total: int, log: Log | None) -> None:
        """Expect ``total`` runs; ``log`` gets the lines (None: silent)."""
        self.total, self.done, self.log = total, 0, log

    def finished(self, name: str, seed: int, outcome: RunOutcome) -> None:
        """Log ``run k/N: name seed s (stored run reused)`` or ``... ran in x s``."""
        self.done += 1
        if self.log is None:
            return
        how = "(stored run reused)" if outcome.reused else f"ran in {outcome.seconds:.1f} s"
        self.log(f"run {self.done}/{self.total}: {name} seed {seed} {how}")


def _run_phase(
    jobs: Mapping[tuple[str, int], tuple[RunRequest, str]],
    runs_dir: Path,
    workers: int | None,
    progress: Progress | None,
    counter: _Counter,
) -> dict[tuple[str, int], RunOutcome]:
    """Reuse the stored runs among ``jobs``, then run the others.

    The missing runs run in this process when there is one worker (or one run), else on a
    process pool.
    """
    outcomes = {}
    missing = {}
    for key, (run_request, name) in jobs.items():
        started = time.perf_counter()
        stored = find_run(run_request, runs_dir)
        if stored is None:
            missing[key] = (run_request, name)
            continue
        outcomes[key] = RunOutcome(stored, True, time.perf_counter() - started)
        counter.finished(name, run_request.seed, outcomes[key])
    workers = min(workers or os.cpu_count() or 1, len(missing))
    if workers <= 1:
        for key, (run_request, name) in missing.items():
            outcomes[key] = find_or_run_timed(run_request, runs_dir, progress)
            counter.finished(name, run_request.seed, outcomes[key])
        return outcomes
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        futures: dict[Future[RunOutcome], tuple[str, int]] = {
            pool.submit(find_or_run_timed, run_request, runs_dir): key
            for key, (run_request, _) in missing.items()
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                key = futures[future]
                error = future.exception()
                if error is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise error
                outcomes[key] = future.result()
                counter.finished(missing[key][1], key[1], outcomes[key])
    return outcomes


def find_or_run_timed(
    request: RunRequest, runs_dir: Path, progress: Progress | None = None
) -> RunOutcome:
    """``find_or_run`` with its wall time (a top-level function, so a pool can call it)."""
    started = time.perf_counter()
    run, reused = find_or_run(request, runs_dir, progress)
    return RunOutcome(run, reused, time.perf_counter() - started)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Forkserver where there is one (a clean process, no copied threads), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _indicators(run: StoredRun, start: int, end: int, seed: int) -> pd.DataFrame:
    """A run's indicators table for ``start``..``end``, with its seed."""
    table = run.table("indicators")
    table = table[table["year"].between(start, end)].copy()
    table["kommunenummer"] = table["kommunenummer"].astype(str)
    table["indicator"] = table["indicator"].astype(str)
    table["unit"] = table["unit"].astype(str)
    table["seed"] = seed
    return table


# ---- writing ------------------------------------------------------------------------------


def _manifest(
    request: ComparisonRequest,
    scenarios: Sequence[ComparedScenario],
    outcomes: Mapping[tuple[str, int], RunOutcome],
    scorecard: Scorecard,
    created: datetime,
) -> dict[str, Any]:
    """What was compared, with which runs (and whether reused), thresholds and code."""
    seeds = list(range(1, request.seeds + 1))
    entries = []
    for position, scenario in enumerate(scenarios):
        runs = [
            {
                "seed": seed,
                "run_id": outcomes[(scenario.hash, seed)].run.run_id,
                "reused": outcomes[(scenario.hash, seed)].reused,
            }
            for seed in seeds
        ]
        entries.append(
            {
                "name": scenario.name,
                "source": scenario.source,
                "hash": scenario.hash,
                "role": "reference" if position == 0 else "compared",
                "scenario": scenario.scenario,
                "runs": runs,
            }
        )
    return {
        "created_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reference": scenarios[0].name,
        "scenarios": entries,
        "seeds": seeds,
        "scale": request.scale,
        "start": request.start,
        "end": request.end,
        "region": request.region,
        "data_dir": str(request.data_dir) if request.data_dir is not None else None,
        "noise_rule": "score 0 when the 5-95 % band of the paired seed differences contains 0",
        "scorecard": {
            "path": str(scorecard.path),
            "sha256": hashlib.sha256(scorecard.path.read_bytes()).hexdigest(),
            "thresholds": {kind: list(steps) for kind, steps in scorecard.thresholds.items()},
            "default": {
                "better": scorecard.default_better,
                "threshold": scorecard.default_threshold,
                "points_units": list(scorecard.points_units),
            },
        },
        "code": code_version(),
    }


def _folder_name(scenarios: Sequence[ComparedScenario], created: datetime) -> str:
    """``<UTC stamp>-<reference>-vs-<names>``, with only safe characters."""
    names = [re.sub(r"[^A-Za-z0-9_.]+", "_", s.name) for s in scenarios]
    return f"{created.strftime('%Y%m%d-%H%M%S')}-{names[0]}-vs-{'-'.join(names[1:])}"


def write_comparison(
    runs_dir: Path,
    name: str,
    table: pd.DataFrame,
    manifest: dict[str, Any],
    scorecard: Scorecard,
) -> Path:
    """Write the comparison folder under ``runs_dir/comparisons`` atomically; return it.

    Staged in a hidden ``.incomplete-<name>-<pid>`` folder and renamed into place; a name
    taken already (two comparisons in the same second) gets ``-2``, ``-3``...
    """
    folder = runs_dir / COMPARISONS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned(folder)
    staging = folder / f"{INCOMPLETE_PREFIX}{name}-{os.getpid()}"
    staging.mkdir()
    try:
        write_parquet(table, staging / "comparison.parquet")
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)
        (staging / MANIFEST).write_text(text + "\n", encoding="utf-8")
        (staging / "comparison.html").write_text(
            comparison_page(table, manifest, scorecard), encoding="utf-8"
        )
        for attempt in range(1, 1000):
            final = folder / (name if attempt == 1 else f"{name}-{attempt}")
            if final.exists():
                continue
            try:
                staging.rename(final)
            except OSError:
                if final.exists():  # taken in the meantime by another process
                    continue
                raise
            return final
        raise OSError(f"{folder}: no free name for {name}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def band_traces(
    rows: pd.DataFrame, scenario: str, colour: str, show_legend: bool = True
) -> list[go.Scatter]:
    """One scenario's 5-95 % band (two edges, filled between) and its mean difference line.

    ``rows``: one indicator and area of a comparison table, by year.
    """
    red, green, blue = plotly.colors.hex_to_rgb(colour)
    edge = {"mode": "lines", "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"}
    return [
        go.Scatter(x=rows["year"], y=rows["difference_p95"], legendgroup=scenario, **edge),
        go.Scatter(
            x=rows["year"],
            y=rows["difference_p05"],
            fill="tonexty",
            fillcolor=f"rgba({red},{green},{blue},0.2)",
            legendgroup=scenario,
            **edge,
        ),
        go.Scatter(
            x=rows["year"],
            y=rows["difference_mean"],
            mode="lines+markers",
            line={"color": colour},
            name=scenario,
            legendgroup=scenario,
            showlegend=show_legend,
            customdata=rows[["score", "difference_p05", "difference_p95"]],
            hovertemplate=(
                f"{scenario} %{{x}}: %{{y:,.4g}} [%{{customdata[1]:,.4g}}, "
                "%{customdata[2]:,.4g}], score %{customdata[0]}<extra></extra>"
            ),
        ),
    ]


def comparison_figure(table: pd.DataFrame, scorecard: Scorecard) -> go.Figure:
    """The region's difference over the years with its 5-95 % band, per headline indicator."""
    region = table[table["kommunenummer"] == REGION]
    names = [n for n in scorecard.headlines() if n in set(region["indicator"])]
    columns = 2
    rows = max(1, math.ceil(len(names) / columns))
    units = region.drop_duplicates("indicator").set_index("indicator")["unit"]
    titles = [f"{scorecard.label(n)} ({scorecard.label(n, 'nb')}), {units[n]}" for n in names]
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles)
    colours = plotly.colors.qualitative.Plotly
    scenario_names = list(dict.fromkeys(table["scenario"]))
    for i, indicator in enumerate(names):
        row, col = i // columns + 1, i % columns + 1
        for j, scenario in enumerate(scenario_names):
            rows_ = region[(region["indicator"] == indicator) & (region["scenario"] == scenario)]
            for trace in band_traces(rows_, scenario, colours[j % len(colours)], i == 0):
                figure.add_trace(trace, row=row, col=col)
        figure.add_hline(y=0, line={"color": "grey", "width": 1}, row=row, col=col)
    figure.update_xaxes(dtick=1, tickformat="d")
    figure.update_layout(
        title="Difference from the reference (region), mean of the paired seeds and 5-95 % band",
        height=320 * rows,
    )
    return figure


def comparison_page(table: pd.DataFrame, manifest: dict[str, Any], scorecard: Scorecard) -> str:
    """A self-contained HTML page: the headline table and the charts (plotly.js embedded)."""
    names = ", ".join(s["name"] for s in manifest["scenarios"] if s["role"] == "compared")
    heading = (
        f"<h1>{names} against {manifest['reference']}</h1>"
        f"<p>Seeds {manifest['seeds'][0]}-{manifest['seeds'][-1]}, scale {manifest['scale']}, "
        f"{manifest['start']}-{manifest['end']}, region {manifest['region']}. "
        f"{legend_text(scorecard)}</p>"
    )
    end = headline_rows(table, scorecard, manifest["end"])
    figure = comparison_figure(table, scorecard).to_html(full_html=False, include_plotlyjs=True)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>comparison</title></head>"
        f"<body>{heading}<h2>Region, {manifest['end']}</h2>"
        f"{end.to_html(index=False, na_rep='')}{figure}</body></html>"
    )


# ---- printing -----------------------------------------------------------------------------


def legend_text(scorecard: Scorecard) -> str:
    """One line: what the scores mean and the noise rule."""
    relative = "/".join(f"{t * 100:g}" for t in scorecard.thresholds["relative"])
    points = "/".join(f"{t * 100:g}" for t in scorecard.thresholds["points"])
    return (
        f"Scores ---..+++: + better (or more, where sign_means is 'more'), - worse (or less); "
        f"one to three signs at {relative} % change ({points} points for shares); "
        "0 = smaller, or within the seed noise (the 5-95 % band of the paired seed "
        "differences contains 0, or the difference is no larger than the reference's own "
        "spread over the seeds)."
    )


def headline_rows(table: pd.DataFrame, scorecard: Scorecard, year: int) -> pd.DataFrame:
    """The region's headline indicators in ``year`` as text, by compared scenario."""
    rows = []
    region = table[(table["kommunenummer"] == REGION) & (table["year"] == year)]
    region = region.set_index(["scenario", "indicator"])
    for scenario in dict.fromkeys(table["scenario"]):
        for indicator in scorecard.headlines():
            if (scenario, indicator) not in region.index:
                continue
            row = region.loc[(scenario, indicator)]
            rows.append(
                {
                    "compared": scenario,
                    "indicator": scorecard.label(indicator),
                    "unit": row["unit"],
                    **_formatted(row),
                    "sign means": row["sign_means"],
                }
            )
    return pd.DataFrame(rows)


def _formatted(row: pd.Series) -> dict[str, str]:
    """Reference, scenario, difference with its band, relative change and score as text."""
    relative = row["relative_difference"]
    return {
        "reference": _number(row["reference_mean"]),
        "scenario": _number(row["scenario_mean"]),
        "difference [p05, p95]": (
            f"{_number(row['difference_mean'], True)} "
            f"[{_number(row['difference_p05'], True)}, {_number(row['difference_p95'], True)}]"
        ),
        "relative": f"{relative * 100:+.1f} %" if np.isfinite(relative) else "",
        "score": row["score"],
    }


def _number(value: float, signed: bool = False) -> str:
    """A number for the terminal: thousands separated from 100 up, three digits below."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    sign = "+" if signed else ""
    if abs(value) >= 100:
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3g}"


def _text_table(frame: pd.DataFrame, left: int) -> list[str]:
    """Lines of a plain table: the first ``left`` columns left-aligned, the rest right."""
    columns = list(frame.columns)
    cells = [[str(c) for c in columns]] + [[str(v) for v in row] for row in frame.to_numpy()]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return [
        "  ".join(
            text.ljust(width) if i < left else text.rjust(width)
            for i, (text, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in cells
    ]


def comparison_text(comparison: Comparison) -> str:
    """The terminal summary: headline table, municipalities with the largest effects, folder."""
    table, manifest, scorecard = comparison.table, comparison.manifest, comparison.scorecard
    end = int(manifest["end"])
    seeds = manifest["seeds"]
    lines = [legend_text(scorecard)]
    headlines = headline_rows(table, scorecard, end)
    reference_rail = manifest["scenarios"][0]["scenario"].get("rail", {})
    for entry in manifest["scenarios"]:
        if entry["role"] != "compared":
            continue
        name = entry["name"]
        lines += [
            "",
            f"{name} against {manifest['reference']}: region, {end}, seeds "
            f"{seeds[0]}-{seeds[-1]}, scale {manifest['scale']}",
        ]
        own = headlines[headlines["compared"] == name] if len(headlines) else headlines
        own = own.drop(columns="compared", errors="ignore")
        lines += _text_table(own, left=2) if len(own) else ["(no headline indicators)"]
        for project, year in sorted(entry["scenario"].get("rail", {}).items()):
            if year > end and reference_rail.get(project) != year:
                lines.append(
                    f"note: {project} opens in {year}, after the end year {end}: its effect is "
                    f"outside the horizon (use --end {year} or later)"
                )
        for indicator in MUNICIPAL_EFFECTS:
            lines += _municipal_lines(comparison, name, indicator, end)
    lines += ["", f"wrote {comparison.path}"]
    return "\n".join(lines)


def _municipal_lines(comparison: Comparison, scenario: str, indicator: str, year: int) -> list[str]:
    """The municipalities with the largest relative effect on ``indicator`` (scores not 0)."""
    table = comparison.table
    rows = table[
        (table["scenario"] == scenario)
        & (table["indicator"] == indicator)
        & (table["year"] == year)
        & (table["kommunenummer"] != REGION)
        & (table["score"] != "0")
    ]
    label = comparison.scorecard.label(indicator)
    if rows.empty:
        return [f"{label}, {year}: no municipality scores other than 0"]
    order = rows["relative_difference"].abs().sort_values(ascending=False, na_position="last")
    formatted = pd.DataFrame(
        [
            {
                "municipality": (
                    f"{row['kommunenummer']} "
                    f"{comparison.municipality_names.get(row['kommunenummer'], '')}"
                ).strip(),
                **_formatted(row),
            }
            for _, row in rows.loc[order.index[:TOP_MUNICIPALITIES]].iterrows()
        ]
    )
    return [f"{label}, {year}: largest effects by municipality"] + _text_table(formatted, 1)
