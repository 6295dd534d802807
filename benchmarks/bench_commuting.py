"""Time the yearly commuting step by part, and vectorised mode choice against a loop.

``python benchmarks/bench_commuting.py --scale 1.0`` builds the default region, runs one year,
then times (median of ``--repeats``) the parts of the commuting step on that year's workers:
the gravity model, the workplaces of every employed person, the mode-choice inputs and the
expected probabilities. It then times the mode choice for ``--loop-workers`` workers written
as a plain Python loop (one worker at a time, as a per-agent ``step`` would) against the
vectorised function on the same workers, side by side, and reports the ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from statistics import median

import numpy as np

from agents.population import NO_ROW
from model.mode_choice import MODES, expected_probabilities
from model.region_model import RegionModel
from model.workplaces import assign_workplaces

OUT = Path(__file__).resolve().parent / "out"


def timed(function, repeats: int) -> float:
    """Median wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return median(times)


def loop_probabilities(
    utility: np.ndarray, constant: dict[str, float], no_car: np.ndarray
) -> np.ndarray:
    """The same expected probabilities, one worker at a time in plain Python."""
    k = [constant[mode] for mode in MODES]
    car = MODES.index("car")
    result = np.empty_like(utility)
    for i in range(len(utility)):
        row = [utility[i, m] + k[m] for m in range(len(MODES))]
        top = max(row)
        e = [math.exp(v - top) if v > -math.inf else 0.0 for v in row]
        total = sum(e)
        without = sum(e) - e[car]
        for m in range(len(MODES)):
            other = 0.0 if m == car else e[m] / without
            result[i, m] = (1 - no_car[i]) * e[m] / total + no_car[i] * other
    return result


def main() -> None:
    """Measure and print; write benchmarks/out/commuting.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-workers", type=int, default=100_000)
    args = parser.parse_args()
    model = RegionModel(seed=1, scale=args.scale)
    model.step()
    travel, persons, households, firms = model.travel, model.persons, model.households, model.firms
    employed = np.flatnonzero(persons.employed)
    home = households.municipality[persons.household[employed]].astype(np.int64)
    weight = households.weight[persons.household[employed]]
    zones = travel.skims.zones
    cells = model.dwellings.cell[households.dwelling[persons.household[employed]]]
    flows = travel.municipality_flows(home, weight, firms)
    rng = np.random.default_rng(0)
    results = {"scale": args.scale, "employed_rows": int(len(employed))}
    results["gravity_s"] = timed(
        lambda: travel.municipality_flows(home, weight, firms), args.repeats
    )
    results["workplaces_s"] = timed(
        lambda: assign_workplaces(
            home,
            zones.cell_zone[cells],
            flows,
            travel.resident_inside_share,
            firms.municipality.astype(np.int64),
            zones.cell_zone[firms.cell],
            firms.jobs,
            travel.zone_deterrence,
            rng,
        ),
        args.repeats,
    )
    commuters = travel.commuters(persons, households, model.dwellings, firms)
    results["commuters"] = int(np.sum(persons.work_firm != NO_ROW))
    results["mode_inputs_s"] = timed(
        lambda: travel.commuters(persons, households, model.dwellings, firms), args.repeats
    )
    no_car = travel.no_car_share[commuters.home]
    constant = travel.mode_params.constant
    results["mode_probabilities_s"] = timed(
        lambda: expected_probabilities(commuters.utility, constant, no_car), args.repeats
    )
    sample = slice(0, min(args.loop_workers, len(commuters.home)))
    vectorised = timed(
        lambda: expected_probabilities(commuters.utility[sample], constant, no_car[sample]),
        args.repeats,
    )
    loop = timed(lambda: loop_probabilities(commuters.utility[sample], constant, no_car[sample]), 1)
    same = np.allclose(
        loop_probabilities(commuters.utility[sample][:1000], constant, no_car[sample][:1000]),
        expected_probabilities(commuters.utility[sample][:1000], constant, no_car[sample][:1000]),
    )
    results.update(
        loop_workers=sample.stop,
        vectorised_s=vectorised,
        loop_s=loop,
        speed_up=loop / vectorised,
        loop_matches=bool(same),
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "commuting.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
