"""The ``osloregion`` command: run scenarios, list runs, summarise a run.

    osloregion run --scenario baseline --start 2024 --end 2030 --scale 0.05 --seed 1
    osloregion runs
    osloregion summary <run id>
    osloregion report <run id>      # report.html: population map and time series
    osloregion compare baseline ringeriksbanen --seeds 5 --scale 0.05
    osloregion dashboard            # the planners' dashboard on http://127.0.0.1:8765
    osloregion calibrate            # fit the baseline; calibrated.toml and a report

Bad input (a missing data file, an unknown region or scenario, impossible years) ends with a
one-line error that names the file and field, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from model.bundle import BundleError
from model.parameters import ParameterError
from model.region import RegionError
from scenarios.compare import ComparisonRequest, compare_scenarios, comparison_text, stderr_line
from scenarios.report import write_report
from scenarios.runner import RunRequest, run_scenario
from scenarios.scenario import ScenarioError
from scenarios.store import StoredRun, StoreError, list_runs, open_run

USER_ERRORS = (BundleError, ParameterError, RegionError, ScenarioError, StoreError, ValueError)
SUMMARY_STOCKS = ("population", "households", "employed", "jobs", "dwellings")
SUMMARY_FLOWS = ("births", "deaths")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``osloregion`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except USER_ERRORS as error:
        print(f"osloregion: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("osloregion: interrupted; nothing was stored", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="osloregion", description="Regional development model of Greater Oslo."
    )
    commands = parser.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("run", help="run a scenario and store its results")
    run.add_argument("--scenario", default="baseline", help="library name or path to a TOML file")
    run.add_argument("--seed", type=int, default=1, help="random seed of the run")
    _add_run_options(run)
    run.set_defaults(handler=_run)

    runs = commands.add_parser("runs", help="list stored runs")
    runs.add_argument("--runs-dir", type=Path, default=Path("runs"))
    runs.set_defaults(handler=_runs)

    summary = commands.add_parser("summary", help="region totals of a stored run")
    summary.add_argument("run_id", help="run id or a unique prefix of it")
    summary.add_argument("--runs-dir", type=Path, default=Path("runs"))
    summary.set_defaults(handler=_summary)

    report = commands.add_parser("report", help="write a map and charts of a stored run")
    report.add_argument("run_id", help="run id or a unique prefix of it")
    report.add_argument("--runs-dir", type=Path, default=Path("runs"))
    report.set_defaults(handler=_report)

    compare = commands.add_parser(
        "compare", help="compare scenarios with the first (the nullalternativ) over seeds"
    )
    compare.add_argument(
        "scenarios",
        nargs="+",
        metavar="scenario",
        help="library names or TOML paths; the first is the reference",
    )
    compare.add_argument("--seeds", type=int, default=5, help="seeds 1..N, N >= 2")
    compare.add_argument(
        "--workers", type=int, default=None, help="parallel runs (default: CPUs; 1: in-process)"
    )
    _add_run_options(compare)
    compare.set_defaults(handler=_compare)

    calibrate = commands.add_parser(
        "calibrate",
        help="fit the baseline to the region's history; write data/parameters/calibrated.toml "
        "and a calibration report",
    )
    calibrate.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2], help="seeds of the fit (default 1 2)"
    )
    calibrate.add_argument("--scale", type=_scale, default=0.05, help="scale of the fit")
    calibrate.add_argument("--passes", type=int, default=2, help="constants/optimiser passes")
    calibrate.add_argument(
        "--rounds", type=int, default=6, help="rounds of the location constants per pass"
    )
    calibrate.add_argument(
        "--generations", type=int, default=3, help="differential evolution generations"
    )
    calibrate.add_argument(
        "--population", type=int, default=2, help="differential evolution popsize multiplier"
    )
    calibrate.add_argument(
        "--report-seeds",
        type=int,
        nargs="+",
        default=[11, 12, 13, 14],
        help="seeds of the before/after assessment (not those of the fit)",
    )
    calibrate.add_argument(
        "--report-scales", type=_scale, nargs="+", default=[0.01, 0.05], help="assessed scales"
    )
    calibrate.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    calibrate.add_argument(
        "--out-dir", type=Path, default=Path("runs") / "calibration", help="report folder"
    )
    calibrate.add_argument(
        "--dry-run", action="store_true", help="write the report only, not calibrated.toml"
    )
    calibrate.add_argument(
        "--from-scratch",
        action="store_true",
        help="start from the parameter files, not from the shipped calibration",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress output")
    calibrate.set_defaults(handler=_calibrate)

    dashboard = commands.add_parser(
        "dashboard", help="start the planners' dashboard (Solara, offline) in a browser"
    )
    dashboard.add_argument("--runs-dir", type=Path, default=Path("runs"), help="results folder")
    dashboard.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=None, help="port (default 8765)")
    dashboard.set_defaults(handler=_dashboard)
    return parser


def _add_run_options(command: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``compare`` share: years, scale, region, folders, quiet."""
    command.add_argument("--start", type=int, default=2024, help="first year reported")
    command.add_argument("--end", type=int, default=2030, help="last year simulated (inclusive)")
    command.add_argument("--scale", type=_scale, default=0.05, help="share of households, (0, 1]")
    command.add_argument(
        "--region", default="osloregionen", help="osloregionen (65 members) or all (104)"
    )
    command.add_argument("--data-dir", type=Path, default=None, help="data bundle folder")
    command.add_argument("--runs-dir", type=Path, default=Path("runs"), help="results folder")
    command.add_argument("--quiet", action="store_true", help="no progress output")


def _scale(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"scale must be in (0, 1], got {text}")
    return value


def _run(args: argparse.Namespace) -> int:
    request = RunRequest(
        scenario=args.scenario,
        seed=args.seed,
        scale=args.scale,
        start=args.start,
        end=args.end,
        region=args.region,
        data_dir=args.data_dir,
    )
    progress = None if args.quiet else ProgressPrinter()
    run = run_scenario(request, args.runs_dir, progress)
    if progress is not None:
        progress.finish()
    print(f"stored run {run.run_id} in {run.path}")
    print(summary_text(run))
    print(f"map and charts: osloregion report {run.run_id} --runs-dir {args.runs_dir}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    """Compare scenarios with the first over seeds; print the scores and the folder."""
    request = ComparisonRequest(
        scenarios=tuple(args.scenarios),
        seeds=args.seeds,
        scale=args.scale,
        start=args.start,
        end=args.end,
        region=args.region,
        data_dir=args.data_dir,
        workers=args.workers,
    )
    progress = None if args.quiet else ProgressPrinter()
    log = None if args.quiet else stderr_line
    comparison = compare_scenarios(request, args.runs_dir, progress, log)
    print(comparison_text(comparison))
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    """Fit the baseline; write the calibrated file and the report."""
    # calibration/ builds on scenarios/, not the reverse
    from calibration.command import CalibrationRequest, run_calibration
    from calibration.fit import FitSettings

    request = CalibrationRequest(
        settings=FitSettings(
            seeds=tuple(args.seeds),
            scale=args.scale,
            constant_rounds=args.rounds,
            passes=args.passes,
            population_per_parameter=args.population,
            generations=args.generations,
        ),
        report_seeds=tuple(args.report_seeds),
        report_scales=tuple(args.report_scales),
        workers=args.workers,
        out_dir=args.out_dir,
        write=not args.dry_run,
        from_scratch=args.from_scratch,
    )
    progress = (lambda message, done, total: None) if args.quiet else ProgressPrinter()
    report = run_calibration(request, progress)
    if not args.quiet:
        progress.finish()
    print(f"calibration report: {report}")
    if request.write:
        print("wrote data/parameters/calibrated.toml (every run reads it)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    """Store the baseline at dashboard scale if needed, then serve the dashboard."""
    from dashboard.launch import serve  # the dashboard builds on scenarios/, not the reverse

    progress = ProgressPrinter()
    status = serve(args.runs_dir, args.host, args.port, progress)
    progress.finish()
    return status


def _runs(args: argparse.Namespace) -> int:
    runs = list_runs(args.runs_dir)
    if not runs:
        print(f"no runs in {args.runs_dir}")
        return 0
    rows = [
        {
            "run_id": run.run_id,
            "scenario": run.manifest.get("scenario_name"),
            "seed": run.manifest.get("seed"),
            "scale": run.manifest.get("scale"),
            "years": f"{run.manifest.get('start')}-{run.manifest.get('end')}",
            "region": run.manifest.get("region"),
            "wall_s": run.manifest.get("wall_time_seconds"),
        }
        for run in runs
    ]
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


def _summary(args: argparse.Namespace) -> int:
    print(summary_text(open_run(args.runs_dir, args.run_id)))
    return 0


def _report(args: argparse.Namespace) -> int:
    path = write_report(open_run(args.runs_dir, args.run_id))
    print(f"wrote {path} (open it in a browser; works offline)")
    return 0


def summary_text(run: StoredRun) -> str:
    """Region totals of the first and last year, and the flows over the run."""
    table = run.table("indicators")
    region = table[table["kommunenummer"] == "region"]
    first, last = int(region["year"].min()), int(region["year"].max())
    by_year = region.pivot(index="indicator", columns="year", values="value")
    lines = [
        f"{run.manifest['scenario_name']}, seed {run.manifest['seed']}, "
        f"scale {run.manifest['scale']}, {len(run.manifest['municipalities'])} municipalities, "
        f"{run.manifest['wall_time_seconds']:.1f} s",
        f"{'region, 1 January':<22}{first:>12}{last:>12}{'change':>10}",
    ]
    for name in SUMMARY_STOCKS:
        a, b = by_year.loc[name, first], by_year.loc[name, last]
        lines.append(f"{name:<22}{a:>12,.0f}{b:>12,.0f}{(b / a - 1) * 100:>9.1f}%")
    lines.append(f"{f'flows {first}-{last}':<22}{'total':>12}{'per year':>12}")
    for name in SUMMARY_FLOWS:
        values = by_year.loc[name].dropna()
        lines.append(f"{name:<22}{values.sum():>12,.0f}{values.mean():>12,.0f}")
    return "\n".join(lines)


class ProgressPrinter:
    """Progress on standard error: a bar on a terminal, a line per step otherwise."""

    def __init__(self) -> None:
        """Start the clock."""
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, message: str, done: int, total: int) -> None:
        """Show one progress event."""
        elapsed = time.perf_counter() - self.started
        if total == 0:
            line = f"{message} ... ({elapsed:.1f} s)"
        else:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            line = f"[{bar}] {done}/{total} years, {message} ({elapsed:.1f} s)"
        if self.tty:
            print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def finish(self) -> None:
        """End the progress line."""
        if self.tty:
            print(file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
