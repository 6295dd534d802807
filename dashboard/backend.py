"""What the dashboard asks of ``scenarios/``: the library, levers, runs and comparisons.

The dashboard never reaches into the model: it reads the lever catalogue, writes scenario
files, runs them through ``scenarios.runner`` in a separate process (so a run never blocks
another session's page, and a crash leaves an error message, not a dead server) and reads
the stored runs' Parquet tables.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import queue
import select
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing.managers import SyncManager
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from dashboard.indeks import indicator_frame
from scenarios.levers import Catalogue, Lever, load_catalogue
from scenarios.runner import RunRequest, find_or_run, find_run
from scenarios.runner import calibration_fit as runner_calibration_fit
from scenarios.scenario import BASELINE, ScenarioError, library_names, load_scenario
from scenarios.store import StoredRun, remove_abandoned

SETTINGS_PATH = Path(__file__).resolve().parent / "settings.toml"
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Settings:
    """Scale, seeds and years of the dashboard's runs; where the server listens."""

    scale: float
    seeds: int
    start: int
    end: int
    host: str
    port: int
    scenario_folder: str


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The dashboard's settings (``dashboard/settings.toml``).

    ``OSLOREGION_DASHBOARD_END`` overrides the last year (the browser tests run short).
    """
    values = tomllib.loads(SETTINGS_PATH.read_text(encoding="utf-8"))
    if os.environ.get("OSLOREGION_DASHBOARD_END"):
        values["end"] = int(os.environ["OSLOREGION_DASHBOARD_END"])
    return Settings(**values)


def catalogue() -> Catalogue:
    """The lever catalogue the controls are built from."""
    return load_catalogue()


def simple_levers() -> list[Lever]:
    """Levers with one value (number, whole number, year, choice): those with a control."""
    return [
        lever
        for lever in catalogue().levers.values()
        if lever.kind in ("number", "integer", "year", "choice")
    ]


@lru_cache(maxsize=32)
def _library_scenario(name: str) -> dict[str, Any]:
    return load_scenario(name)


def library() -> dict[str, dict[str, Any]]:
    """Every library scenario, resolved, by name."""
    return {name: _library_scenario(name) for name in library_names()}


def lever_value(scenario: dict[str, Any], lever: Lever) -> Any:
    """The value a (resolved) scenario gives a lever, else the catalogue's default."""
    table = scenario.get(lever.theme, {})
    return table.get(lever.name, lever.default)


def scenario_from_levers(
    name: str, extends: str, values: dict[str, Any], texts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A scenario file's content: ``name``, ``extends`` and the levers set in ``values``.

    ``values`` maps lever keys (``transport.road_price_nok_per_km``) to values; None leaves
    a lever to the scenario it extends.
    """
    scenario: dict[str, Any] = {"name": name, "extends": extends}
    scenario.update(texts or {})
    for key, value in values.items():
        if value is None:
            continue
        theme, lever = key.split(".", 1)
        scenario.setdefault(theme, {})[lever] = value
    return scenario


def scenario_text(scenario: dict[str, Any]) -> str:
    """A scenario as TOML text, as a planner downloads it."""
    return tomli_w.dumps(scenario)


def check_scenario_text(text: str, file_name: str = "scenario.toml") -> dict[str, Any]:
    """Validate uploaded TOML text; return the resolved scenario or raise ``ScenarioError``.

    The message names the field and line, with ``file_name`` as the file.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file_name).name
        path.write_text(text, encoding="utf-8")
        try:
            return load_scenario(str(path))
        except ScenarioError as error:
            raise ScenarioError(str(error).replace(str(path), Path(file_name).name)) from None


def scenario_file(scenario: dict[str, Any], runs_dir: Path) -> Path:
    """Write a session's scenario under the runs folder, named by its hash; return its path.

    A library scenario is run by name instead; this is for edited ones.
    """
    folder = runs_dir / settings().scenario_folder
    folder.mkdir(parents=True, exist_ok=True)
    text = scenario_text({**scenario, "extends": scenario.get("extends", BASELINE)})
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = folder / f"{scenario['name']}-{digest}.toml"
    if not path.exists():
        staging = path.with_suffix(".incomplete")
        staging.write_text(text, encoding="utf-8")
        staging.rename(path)
    load_scenario(str(path))  # refuse before anything runs
    return path


def request(source: str, seed: int = 1) -> RunRequest:
    """The run of a scenario (library name or file) at the dashboard's scale and years."""
    config = settings()
    return RunRequest(
        scenario=source, seed=seed, scale=config.scale, start=config.start, end=config.end
    )


def calibration_fit() -> dict[str, Any]:
    """How the shipped calibration was fitted (empty when the model runs uncalibrated)."""
    return runner_calibration_fit()


def stored_run(source: str, runs_dir: Path, seed: int = 1) -> StoredRun | None:
    """The stored run of a scenario at dashboard scale, or None."""
    return find_run(request(source, seed), runs_dir)


def _run_in_child(run_request: RunRequest, runs_dir: Path, events: Any) -> str:
    """Find or run in a child process; progress events go to the ``events`` queue."""

    def progress(message: str, done: int, total: int) -> None:
        events.put((message, done, total))

    run, _ = find_or_run(run_request, runs_dir, progress)
    return str(run.path)


_POOL: dict[str, Any] = {}
_POOL_LOCK = threading.Lock()
WORKERS = 2  # two sessions can run at once
# Imported once by the fork server, so a worker starts with the model loaded.
WORKER_PRELOAD = ["scenarios.runner", "dashboard.backend"]


def _pool() -> tuple[ProcessPoolExecutor, Any]:
    """The server's worker processes and a manager (for progress queues).

    Made once and kept, so a run does not pay for starting Python and importing the model.
    Both end with the server process, however it ends (see ``exit_with``).
    """
    with _POOL_LOCK:
        if "pool" not in _POOL:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(WORKER_PRELOAD)
            manager = SyncManager(ctx=context)
            manager.start(exit_with, (os.getpid(),))
            _POOL["manager"] = manager
            _POOL["pool"] = ProcessPoolExecutor(
                WORKERS, mp_context=context, initializer=exit_with, initargs=(os.getpid(),)
            )
        return _POOL["pool"], _POOL["manager"]


def exit_with(server_pid: int) -> None:
    """End this process when the process ``server_pid`` ends (run in workers and the manager).

    A worker waits on its task queue, whose writing end it holds itself, so after a server
    stopped by a signal it would wait for ever, and keep the fork server alive with it.
    """

    def watch() -> None:
        try:
            with open(os.pidfd_open(server_pid), "rb", buffering=0) as server:
                select.select([server], [], [])  # readable once the server has ended
        except (AttributeError, OSError):  # no pidfd (not Linux): poll
            while Path(f"/proc/{server_pid}").exists():
                time.sleep(2.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def _ready() -> bool:
    """A task that only makes a worker process start."""
    return True


def warm_up() -> threading.Thread:
    """Start the worker processes in the background, so the first run does not wait for them.

    The fork server imports the model once (about 2 s), then the workers fork from it.
    """

    def start() -> None:
        pool, _ = _pool()
        for future in [pool.submit(_ready) for _ in range(WORKERS)]:
            future.result()

    thread = threading.Thread(target=start, name="warm-up", daemon=True)
    thread.start()
    return thread


class RunCrashed(RuntimeError):
    """A run's worker process died (killed, out of memory): nothing of it was stored."""


def _reset_pool() -> None:
    """Shut the worker pool and its manager down, whatever state they are in."""
    pool, manager = _POOL.pop("pool", None), _POOL.pop("manager", None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        try:
            manager.shutdown()
        except OSError:
            pass


def run_scenario_process(
    source: str, runs_dir: Path, progress: Progress | None = None, seed: int = 1
) -> StoredRun:
    """Run (or find) a scenario at dashboard scale in a worker process, reporting progress.

    The worker writes the run atomically; if it fails or dies, this raises and nothing is
    stored.
    """
    stored = stored_run(source, runs_dir, seed)
    if stored is not None:
        return stored
    try:
        pool, manager = _pool()
        events = manager.Queue()
        future = pool.submit(_run_in_child, request(source, seed), runs_dir, events)
        while not future.done() or not events.empty():
            try:
                message, done, total = events.get(timeout=0.2)
            except queue.Empty:
                continue
            if progress is not None:
                progress(message, done, total)
        future.result()  # raises the worker's own error
    except (BrokenProcessPool, EOFError, ConnectionError) as error:
        _reset_pool()  # a worker or the manager died: start afresh next time
        remove_abandoned(runs_dir)
        message = f"the process running {source} stopped ({error!r}); nothing was stored"
        raise RunCrashed(message) from error
    stored = stored_run(source, runs_dir, seed)
    if stored is None:
        raise RuntimeError(f"the run of {source} finished but is not in {runs_dir}")
    return stored


@lru_cache(maxsize=64)
def _table(path: str, name: str) -> pd.DataFrame:
    return StoredRun(Path(path), {}).table(name)


def run_table(run: StoredRun, name: str) -> pd.DataFrame:
    """One Parquet table of a stored run (cached: stored runs never change)."""
    return _table(str(run.path), name)


@lru_cache(maxsize=16)
def _frame(path: str) -> pd.DataFrame:
    return indicator_frame(_table(path, "indicators"))


def run_frame(run: StoredRun) -> pd.DataFrame:
    """A run's indicators, one column per (indicator, area), one row per year (cached)."""
    return _frame(str(run.path))


def series(run: StoredRun, indicator: str, area: str = "region") -> pd.Series:
    """One indicator of one area by year."""
    return run_frame(run)[(indicator, area)].dropna()


CELL_COLUMNS = ("population", "jobs", "dwellings")


def comparison_cells(manifest: dict[str, Any], runs_dir: Path, column: str) -> dict[str, pd.Series]:
    """Each compared scenario's ``column`` per 1 km cell in the last year, mean over seeds.

    Read from the stored runs the comparison's manifest names; index (``easting_m``,
    ``northing_m``). A cell a run lacks counts as 0 (nothing there).
    """
    result = {}
    for entry in manifest["scenarios"]:
        per_seed = []
        for run in entry["runs"]:
            cells = _table(str(runs_dir / run["run_id"]), "cells")
            last = cells[cells["year"] == cells["year"].max()]
            per_seed.append(last.set_index(["easting_m", "northing_m"])[column])
        result[entry["name"]] = pd.concat(per_seed, axis=1).fillna(0.0).mean(axis=1)
    return result


def municipality_names() -> dict[str, str]:
    """Municipality number -> name, from the shipped bundle."""
    from model.bundle import DEFAULT_BUNDLE_DIR  # the bundle's file, not the model

    table = pd.read_csv(DEFAULT_BUNDLE_DIR / "municipalities.csv", dtype=str)
    return dict(zip(table["kommunenummer"], table["kommunenavn"], strict=True))
