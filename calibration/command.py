"""``osloregion calibrate``: fit the baseline, write the calibrated file and the report.

Steps, with progress on standard error:

1. fit (``calibration.fit.calibrate``) on a local process pool, starting from the shipped
   calibration (``--from-scratch``: from the parameter files as they are);
2. assess the parameter files as they are ("before") and the fit ("after") over the report
   seeds at each report scale, to the report's end year (``calibration.assess``);
3. write ``data/parameters/calibrated.toml`` (atomically; ``--dry-run`` leaves it alone)
   and the calibration report (``report.html`` with its tables) in a folder of its own
   under ``runs/calibration/``.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from calibration.assess import assess, summary
from calibration.calibrated import data_hash, fit_code_version, headline, write_calibrated
from calibration.catalogue import read_catalogue
from calibration.fit import FitSettings, calibrate
from calibration.report import ReportData, parameter_table, write_report
from calibration.targets import read_targets
from model.parameters import calibrated_values


@dataclass(frozen=True)
class CalibrationRequest:
    """What ``osloregion calibrate`` was asked to do."""

    settings: FitSettings
    report_seeds: tuple[int, ...] = (11, 12, 13, 14)
    report_scales: tuple[float, ...] = (0.01, 0.05)
    workers: int | None = None
    out_dir: Path = Path("runs") / "calibration"
    write: bool = True
    from_scratch: bool = False  # start from the parameter files, not the shipped calibration


def run_calibration(request: CalibrationRequest, progress) -> Path:
    """Fit, assess, write the calibrated file and the report; return the report's path."""
    started = time.perf_counter()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    code = fit_code_version()
    data = data_hash()
    window, specs = read_targets()
    catalogue = read_catalogue()
    context = multiprocessing.get_context("forkserver")
    workers = request.workers or max(1, (multiprocessing.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=context) as executor:
        start = {} if request.from_scratch else calibrated_values()
        result = calibrate(request.settings, executor, lambda m: progress(m, 0, 0), start)
        assessment = assess(
            {"before": {}, "after": result.overlay},
            request.report_seeds,
            request.report_scales,
            window,
            specs,
            executor,
            lambda m: progress(m, 0, 0),
        )
    fit_summary = summary(assessment, window.fit_end_year)
    seconds = time.perf_counter() - started
    fit = {
        "date": stamp[:8],
        "code": code,
        "data_sha256": data,
        "optimiser": "scipy.optimize.differential_evolution",
        "started_from": "parameter files" if request.from_scratch else "previous calibration",
        "settings": asdict(request.settings),
        "report_seeds": list(request.report_seeds),
        "report_scales": list(request.report_scales),
        "objective_before": result.objective_before,
        "objective_after": result.objective_after,
        "evaluations": result.evaluations,
        "seconds": round(seconds, 1),
        "fitted": result.fitted,
        "window": {"base_year": window.base_year, "end_year": window.fit_end_year},
        **headline(fit_summary, specs),
    }
    folder = Path(request.out_dir) / stamp
    report = write_report(
        ReportData(
            fit=fit,
            specs=specs,
            window=window,
            assessment=assessment,
            parameters=parameter_table(catalogue, result.overlay),
            location_rounds=result.location_rounds,
        ),
        folder,
    )
    if request.write:
        write_calibrated(result.overlay, fit)
    progress(f"calibration done in {seconds / 60:.1f} min", 0, 0)
    return report
