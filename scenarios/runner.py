"""Running a scenario: build the model, step it year by year, store the results.

``run_scenario`` is the one entry point for the CLI, sweeps and the dashboard: scenario,
seed, scale and years in, a stored run folder out. Years ``start`` to ``end`` are simulated
inclusive: the indicators hold the stocks of 1 January and the flows during each of them.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.bundle import BUNDLE_SCHEMA, DEFAULT_BUNDLE_DIR
from model.emissions.system import ClimateReference
from model.parameters import calibration_metadata
from model.region_model import RegionModel
from scenarios.scenario import (
    BASELINE,
    construction_levers,
    energy_levers,
    load_scenario,
    population_growth_factor,
    rail_projects,
    scenario_hash,
    settlement_policy,
    transport_levers,
)
from scenarios.store import StoredRun, list_runs, write_run

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("model", "agents", "scenarios")
# Files under CODE_FOLDERS and data/parameters that only read or present stored results: a
# change to them does not change what a run computes, so it does not make stored runs stale.
RESULT_READERS = (
    "scenarios/cli.py",
    "scenarios/compare.py",
    "scenarios/report.py",
    "data/parameters/scorecard.toml",
)
# Scenario files enter a run through the scenario hash of the resolved scenario instead.
SCENARIO_FILES = "scenarios/library/"
PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pyarrow")
RUN_TABLES = (
    "indicators",
    "cells",
    "od_commuting",
    "emissions",
    "energy_stations",
    "fleet",
    "climate_budget",
)


@dataclass(frozen=True)
class RunRequest:
    """What to run."""

    scenario: str = "baseline"
    seed: int = 1
    scale: float = 0.05
    start: int = 2024
    end: int = 2030
    region: str = "osloregionen"
    data_dir: Path | None = None


def run_scenario(
    request: RunRequest,
    runs_dir: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> StoredRun:
    """Run ``request`` and store it under ``runs_dir``; return the stored run.

    ``progress(message, done, total)`` is called while the world is built (total 0) and
    after every simulated year.
    """
    report = progress or (lambda message, done, total: None)
    scenario = load_scenario(request.scenario)
    code = code_version()  # the code as the run starts, not as it ends
    started = time.perf_counter()
    model = build_model(scenario, request, progress=lambda message: report(message, 0, 0))
    base_year = model.year
    if not base_year <= request.start <= request.end:
        raise ValueError(
            f"years: start {request.start} and end {request.end} must satisfy "
            f"{base_year} (the bundle's base year) <= start <= end"
        )
    world_seconds = time.perf_counter() - started
    # The model is built, so the scenario is valid: now find or run its reference.
    reference_run, reference_started = None, time.perf_counter()
    if scenario_hash(scenario) != scenario_hash(load_scenario(BASELINE)):
        reference_run = baseline_run(request, runs_dir, report)
        model.emissions.reference = climate_reference_of(reference_run)
    started += time.perf_counter() - reference_started  # the baseline's time is its own
    total = request.end - base_year + 1
    cell_snapshots = []
    for done in range(1, total + 1):
        if model.year in (request.start, request.end):
            cell_snapshots.append(cell_table(model))
        model.step()
        report(f"simulated {model.year - 1}", done, total)
    indicators = model.indicator_table()
    indicators = indicators[indicators["year"].between(request.start, request.end)]
    indicators = indicators.reset_index(drop=True)
    cells = pd.concat(cell_snapshots, ignore_index=True)
    wall_seconds = time.perf_counter() - started

    manifest = {
        "run_id": "",
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scenario": scenario,
        "scenario_name": scenario["name"],
        "scenario_hash": scenario_hash(scenario),
        "seed": request.seed,
        "scale": request.scale,
        "region": request.region,
        "municipalities": list(model.world.codes),
        "base_year": base_year,
        "start": request.start,
        "end": request.end,
        "data_bundle": {
            "path": str(model.bundle.path),
            "title": model.bundle.title,
            "sha256": bundle_hash(model.bundle.path),
        },
        "code": code,
        "packages": package_versions(),
        "wall_time_seconds": round(wall_seconds, 3),
        "world_build_seconds": round(world_seconds, 3),
        "tables": {"indicators": len(indicators), "cells": len(cells)},
    }
    run_id = make_run_id(scenario["name"], request.seed, manifest["created_utc"])
    manifest["run_id"] = run_id
    manifest["reference_run"] = reference_run.run_id if reference_run is not None else None
    commuting = model.commuting_table()
    commuting = commuting[commuting["year"].between(request.start, request.end)]
    manifest["tables"]["od_commuting"] = len(commuting)
    tables = {
        "indicators": indicators,
        "cells": cells,
        "od_commuting": commuting.reset_index(drop=True),
        "emissions": model.emissions_table(),
        "energy_stations": model.emissions.stations_table(),
        "fleet": model.emissions.fleet_table(),
        "climate_budget": model.emissions.climate_budget_table(),
    }
    for name in ("emissions", "energy_stations", "fleet", "climate_budget"):
        if len(tables[name]):
            tables[name] = tables[name][tables[name]["year"].between(request.start, request.end)]
        tables[name] = tables[name].reset_index(drop=True)
        manifest["tables"][name] = len(tables[name])
    return write_run(runs_dir, run_id, manifest, tables)


def build_model(
    scenario: dict[str, Any],
    request: RunRequest,
    parameters_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> RegionModel:
    """The base-year model of a resolved ``scenario`` for the seed, scale and region asked.

    ``parameters_dir`` replaces ``data/parameters`` (the calibration runs candidates from a
    folder of its own).
    """
    return RegionModel(
        seed=request.seed,
        scale=request.scale,
        region=request.region,
        data_dir=request.data_dir,
        parameters_dir=parameters_dir,
        progress=progress,
        settlement=settlement_policy(scenario),
        construction_levers=construction_levers(scenario),
        rail_projects=rail_projects(scenario),
        transport_levers=transport_levers(scenario),
        energy_levers=energy_levers(scenario),
        population_growth_factor=population_growth_factor(scenario),
    )


def calibration_fit() -> dict[str, Any]:
    """How the calibration every run reads was fitted (the ``fit`` table of calibrated.toml).

    Empty when the model runs uncalibrated (no ``data/parameters/calibrated.toml``).
    """
    return calibration_metadata()


def find_run(request: RunRequest, runs_dir: Path) -> StoredRun | None:
    """The newest stored run that answers ``request``, or None.

    A run answers it when it ran the same resolved scenario (hash), seed, scale and region,
    with the same code and data bundle, and its years cover ``start``..``end``: the model
    never looks ahead, so a longer run holds the same values for the shorter horizon.
    """
    wanted = scenario_hash(load_scenario(request.scenario))
    code = code_version()["source_sha256"]
    bundle = bundle_hash(Path(request.data_dir or DEFAULT_BUNDLE_DIR))
    for run in reversed(list_runs(runs_dir)):
        manifest = run.manifest
        if (
            manifest.get("scenario_hash") == wanted
            and manifest.get("seed") == request.seed
            and manifest.get("scale") == request.scale
            and manifest.get("region") == request.region
            and manifest.get("start", 0) <= request.start
            and manifest.get("end", 0) >= request.end
            and manifest.get("code", {}).get("source_sha256") == code
            and manifest.get("data_bundle", {}).get("sha256") == bundle
            and all((run.path / f"{name}.parquet").is_file() for name in RUN_TABLES)
        ):
            return run
    return None


def find_or_run(
    request: RunRequest,
    runs_dir: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[StoredRun, bool]:
    """The stored run answering ``request`` (see ``find_run``), running it if there is none.

    Returns the run and whether it was reused.
    """
    stored = find_run(request, runs_dir)
    if stored is not None:
        return stored, True
    return run_scenario(request, runs_dir, progress), False


def baseline_run(
    request: RunRequest, runs_dir: Path, report: Callable[[str, int, int], None]
) -> StoredRun:
    """The stored baseline run matching ``request`` (same seed, scale, region, years, code).

    Runs it first if there is none: the baseline is every scenario's reference path.
    """
    baseline = replace(request, scenario=BASELINE)
    stored = find_run(baseline, runs_dir)
    if stored is not None:
        return stored
    report("running the baseline first (the reference path of the climate budgets)", 0, 0)
    return run_scenario(baseline, runs_dir, report)


def climate_reference_of(run: StoredRun) -> ClimateReference:
    """A baseline run's total emissions by year and municipality and its target anchors."""
    totals = run.table("emissions").groupby(["year", "kommunenummer"])["co2e_tonnes"].sum()
    by_year: dict[int, dict[str, float]] = {}
    for (year, code), value in totals.items():
        by_year.setdefault(int(year), {})[str(code)] = float(value)
    budget = run.table("climate_budget").drop_duplicates("kommunenummer")
    anchors = dict(
        zip(
            budget["kommunenummer"], budget["reference_year_co2e_tonnes"].astype(float), strict=True
        )
    )
    return ClimateReference(by_year, anchors)


def cell_table(model: RegionModel) -> pd.DataFrame:
    """Population, households, dwellings and jobs per land cell on 1 January of this year."""
    world = model.world
    easting, northing = world.cell_centre_m()
    table = pd.DataFrame(
        {
            "year": model.year,
            "easting_m": (easting - 500).astype("int64"),
            "northing_m": (northing - 500).astype("int64"),
            "kommunenummer": [world.codes[m] for m in world.cell_municipality],
        }
    )
    for name, values in model.cell_counts().items():
        table[name] = values
    dwellings = model.dwellings
    value = np.bincount(dwellings.cell, dwellings.weight * dwellings.price_nok_per_m2, len(table))
    stock = np.bincount(dwellings.cell, dwellings.weight, len(table))
    table["mean_price_nok_per_m2"] = np.divide(
        value, stock, out=np.full(len(table), np.nan), where=stock > 0
    )
    return table


def make_run_id(scenario_name: str, seed: int, created_utc: str) -> str:
    """A sortable, unique id: time, scenario, seed and a random suffix."""
    stamp = created_utc.replace("-", "").replace(":", "").replace("T", "-").rstrip("Z")
    return f"{stamp}-{scenario_name}-s{seed}-{os.urandom(3).hex()}"


def bundle_hash(folder: Path) -> str:
    """SHA-256 over the bundle's schema files, so a manifest pins the data it used."""
    digest = hashlib.sha256()
    for name in ["bundle.toml", *(spec.name for spec in BUNDLE_SCHEMA)]:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def code_version(excluded: tuple[str, ...] = ()) -> dict[str, Any]:
    """The project version, the git commit if there is one, and a hash of the code itself.

    The hash covers what a run computes with: the model, agents, scenario loading and
    running, and the parameter files; not the result readers (``RESULT_READERS``), not
    the scenario library, whose files a run's scenario hash covers, and not the files of
    ``excluded`` (paths from the project root: the calibration leaves out the calibrated
    file it is about to replace).
    """
    digest = hashlib.sha256()
    for folder in (*CODE_FOLDERS, "data/parameters"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            skipped = relative in RESULT_READERS or relative in excluded
            if skipped or relative.startswith(SCENARIO_FILES):
                continue
            if path.is_file() and path.suffix in (".py", ".toml", ".csv"):
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return {
        "version": _version("osloregion"),
        "git_commit": _git_commit(),
        "source_sha256": digest.hexdigest(),
    }


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages the results depend on."""
    versions = {"python": platform.python_version()}
    versions.update({name: _version(name) for name in PACKAGES})
    return versions


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() or "unknown"
