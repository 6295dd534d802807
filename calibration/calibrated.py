"""The calibrated file: what a fit found, written where every run reads it.

``data/parameters/calibrated.toml`` holds the fit's values (table ``values``, read by the
model's parameter loader on top of the parameter files) and its metadata (table ``fit``:
date, code version, data hash, seeds, scale, optimiser, objective and the headline of the
targets before and after). It is written atomically (a staging file renamed into place),
so a killed calibration leaves the previous file intact.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from calibration.catalogue import CATALOGUE_FILE
from calibration.evaluate import plain
from calibration.targets import HISTORY_DIR, TARGETS_FILE, TargetSpec
from model.bundle import DEFAULT_BUNDLE_DIR
from model.parameters import CALIBRATED_FILE, PARAMETERS_DIR
from scenarios.runner import PROJECT_ROOT, bundle_hash, code_version

CALIBRATED_PATH = PARAMETERS_DIR / CALIBRATED_FILE


def data_hash() -> str:
    """SHA-256 over what a fit is fitted to: the bundle, the history, targets and catalogue."""
    digest = hashlib.sha256(bundle_hash(DEFAULT_BUNDLE_DIR).encode())
    for path in [*sorted(HISTORY_DIR.glob("*.csv")), TARGETS_FILE, CATALOGUE_FILE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fit_code_version() -> dict[str, Any]:
    """The code version of a fit: the code and parameter files, the calibrated file left out."""
    calibrated = CALIBRATED_PATH.relative_to(PROJECT_ROOT).as_posix()
    return code_version(excluded=(calibrated,))


def headline(summary: pd.DataFrame, specs: list[TargetSpec]) -> dict[str, Any]:
    """Per state and scale: targets met, of how many; per target: mean error and tolerance.

    ``summary`` is ``calibration.assess.summary`` of one horizon (a target counts as met at
    a scale when its mean error over the seeds is within its tolerance); fitted and
    validation targets are counted apart.
    """
    by_name = {spec.name: spec for spec in specs}
    result: dict[str, Any] = {"targets": {}}
    for (state, scale), rows in summary.groupby(["state", "scale"], sort=False):
        met = rows["error_mean"] <= rows["tolerance"]
        fitted = rows["target"].map(lambda name: by_name[name].fitted)
        result[f"{state}_scale_{scale:g}"] = {
            "fitted_met": int((met & fitted).sum()),
            "fitted_of": int(fitted.sum()),
            "validation_met": int((met & ~fitted).sum()),
            "validation_of": int((~fitted).sum()),
        }
        for row in rows.itertuples():
            spec = by_name[row.target]
            entry = result["targets"].setdefault(
                row.target,
                {
                    "title": spec.title,
                    "title_nb": spec.title_nb,
                    "unit": spec.unit,
                    "tolerance": float(row.tolerance),
                    "fitted": spec.fitted,
                },
            )
            entry[f"{state}_scale_{scale:g}"] = round(float(row.error_mean), 4)
    return result


def write_calibrated(
    overlay: dict[str, Any], fit: dict[str, Any], path: Path = CALIBRATED_PATH
) -> Path:
    """Write ``overlay`` (table ``values``) and ``fit`` (table ``fit``) to ``path`` atomically."""
    fit = {"written_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), **fit}
    text = (
        "# Written by `osloregion calibrate`; do not edit by hand. Every run reads the table\n"
        "# `values` on top of the parameter files of this folder (model/parameters.py); the\n"
        "# table `fit` says how it was fitted. Delete this file to run the model uncalibrated.\n"
        + tomli_w.dumps({"fit": plain(fit), "values": plain(overlay)})
    )
    tomllib.loads(text)  # what is written must read back
    staging = path.with_name(f".{path.name}.staging-{os.getpid()}")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)
    return path
