"""World build time, yearly step time and peak memory of RegionModel at full scale.

Each scale is measured in a fresh subprocess so that its peak memory (max RSS) is its own.

    python benchmarks/bench_full_scale.py                 # scale 1.0, 5 years
    python benchmarks/bench_full_scale.py --scales 0.05 1.0 --years 5

Targets at scale 1.0 on the 2-core reference machine: build <= 30 s, one year <= 5 s,
peak memory <= 4 GB.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(scale: float, years: int) -> dict:
    """Build the default region at ``scale`` and step it ``years`` times."""
    from model.region_model import RegionModel

    started = time.perf_counter()
    model = RegionModel(seed=1, scale=scale)
    build_seconds = time.perf_counter() - started
    persons, households = len(model.persons), len(model.households)
    step_seconds, step_cpu_seconds = [], []
    for _ in range(years):
        started, started_cpu = time.perf_counter(), time.process_time()
        model.step()
        step_seconds.append(time.perf_counter() - started)
        step_cpu_seconds.append(time.process_time() - started_cpu)
    return {
        "scale": scale,
        "persons": persons,
        "households": households,
        "build_seconds": round(build_seconds, 3),
        "step_seconds_mean": round(statistics.mean(step_seconds), 3),
        "step_seconds_max": round(max(step_seconds), 3),
        "step_cpu_seconds_mean": round(statistics.mean(step_cpu_seconds), 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.scales[0], args.years)))
        return
    results = []
    for scale in args.scales:
        print(f"measuring scale {scale} ...", file=sys.stderr, flush=True)
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--scales",
                str(scale),
                "--years",
                str(args.years),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, cores: "
        f"{__import__('os').cpu_count()}"
    )
    print(
        f"{'scale':>6} {'persons':>10} {'households':>11} {'build s':>8} "
        f"{'year s':>7} {'max year s':>10} {'year CPU s':>10} {'peak MiB':>9}"
    )
    for r in results:
        print(
            f"{r['scale']:>6} {r['persons']:>10,} {r['households']:>11,} "
            f"{r['build_seconds']:>8.2f} {r['step_seconds_mean']:>7.3f} "
            f"{r['step_seconds_max']:>10.3f} {r['step_cpu_seconds_mean']:>10.3f} "
            f"{r['peak_rss_mib']:>9.0f}"
        )
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "full_scale.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
