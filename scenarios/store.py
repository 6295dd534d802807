"""The results store: one folder per run under ``runs/``, written atomically.

A run folder holds ``manifest.json`` (what was run, with which code and data, how long it
took) and Parquet tables (``indicators.parquet``, ``cells.parquet``). Everything is first
written into a hidden ``.incomplete-<run_id>-<pid>`` folder beside it and renamed into place
only when complete, so a failed or killed run never leaves a half-written run folder. Hidden
folders of runs that are no longer running are removed by the next write.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
INCOMPLETE_PREFIX = ".incomplete-"


class StoreError(ValueError):
    """A run folder is missing or unreadable."""


@dataclass(frozen=True)
class StoredRun:
    """A finished run: its folder and manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    def table(self, name: str) -> pd.DataFrame:
        """Read one of the run's Parquet tables, e.g. ``"indicators"``."""
        path = self.path / f"{name}.parquet"
        if not path.is_file():
            raise StoreError(f"{path}: table missing")
        return pq.read_table(path).to_pandas()


def write_run(
    runs_dir: Path, run_id: str, manifest: dict[str, Any], tables: dict[str, pd.DataFrame]
) -> StoredRun:
    """Write the run's manifest and tables into ``runs_dir/run_id``, atomically."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    remove_abandoned(runs_dir)
    final = runs_dir / run_id
    if final.exists():
        raise StoreError(f"{final}: a run with this id exists already")
    staging = runs_dir / f"{INCOMPLETE_PREFIX}{run_id}-{os.getpid()}"
    staging.mkdir()
    try:
        for name, frame in tables.items():
            write_parquet(frame, staging / f"{name}.parquet")
        text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True)
        (staging / MANIFEST).write_text(text + "\n", encoding="utf-8")
        _fsync_folder(staging)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StoredRun(final, manifest)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a table so that equal frames give byte-identical files."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def list_runs(runs_dir: Path) -> list[StoredRun]:
    """Every finished run under ``runs_dir``, oldest first."""
    if not runs_dir.is_dir():
        return []
    runs = []
    for folder in sorted(runs_dir.iterdir()):
        manifest = folder / MANIFEST
        if folder.name.startswith(".") or not manifest.is_file():
            continue
        runs.append(StoredRun(folder, json.loads(manifest.read_text(encoding="utf-8"))))
    return sorted(runs, key=lambda run: (run.manifest.get("created_utc", ""), run.run_id))


def open_run(runs_dir: Path, run_id: str) -> StoredRun:
    """A finished run by its id (or a unique prefix of it)."""
    matches = [run for run in list_runs(runs_dir) if run.run_id.startswith(run_id)]
    if len(matches) != 1:
        found = "no run" if not matches else f"{len(matches)} runs"
        raise StoreError(f"{runs_dir}: {found} with id starting '{run_id}'")
    return matches[0]


def remove_abandoned(runs_dir: Path) -> list[Path]:
    """Delete staging folders whose writing process is gone; return what was removed."""
    removed = []
    for folder in runs_dir.glob(f"{INCOMPLETE_PREFIX}*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
