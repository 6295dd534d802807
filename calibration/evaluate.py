"""One evaluation of the baseline: parameter values and a seed in, the run's tables out.

:func:`evaluate` is a plain function of its arguments (nothing unpicklable goes in or out),
so any ``concurrent.futures.Executor`` can run many of them: a local process pool today, a
distributed engine later. The parameter values are an *overlay* in the form of
``calibrated.toml``'s ``values`` table (file name -> dotted field -> value); the evaluation
writes them as ``calibrated.toml`` into a private copy of ``data/parameters`` and runs the
nullalternativ from that folder, so the values reach the model through the same mechanism,
types and ranges as a shipped calibration. The shipped ``calibrated.toml`` is not read: the
overlay given is the whole calibration of the evaluation.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from calibration.targets import RunTables
from model.parameters import CALIBRATED_FILE, PARAMETERS_DIR
from scenarios.runner import RunRequest, build_model
from scenarios.scenario import BASELINE, load_scenario

Overlay = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Evaluation:
    """What to evaluate: the overlay, the seed, the scale and the years."""

    overlay: Overlay
    seed: int
    scale: float
    end_year: int  # the last 1 January whose stocks are needed (years before it are stepped)
    region: str = "osloregionen"


def write_parameter_folder(overlay: Overlay, folder: Path, source: Path = PARAMETERS_DIR) -> Path:
    """Copy the parameter files of ``source`` into ``folder`` with ``overlay`` as calibrated.toml.

    ``source``'s own calibrated.toml is not copied. Returns ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for path in Path(source).iterdir():
        if path.is_file() and path.name != CALIBRATED_FILE:
            shutil.copy2(path, folder / path.name)
    if overlay:
        values = {name: plain(fields) for name, fields in overlay.items()}
        (folder / CALIBRATED_FILE).write_text(tomli_w.dumps({"values": values}), encoding="utf-8")
    return folder


def plain(value: Any) -> Any:
    """``value`` with numpy scalars and mappings turned into what TOML can write."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return value


def evaluate(evaluation: Evaluation) -> RunTables:
    """Run the nullalternativ with the evaluation's overlay; return its tables.

    Steps the base year up to ``end_year`` (exclusive), so the indicator table holds the
    stocks of 1 January up to ``end_year`` and the flows of the years before it.
    """
    scenario = load_scenario(BASELINE)
    with tempfile.TemporaryDirectory(prefix="osloregion-calibration-") as folder:
        parameters = write_parameter_folder(evaluation.overlay, Path(folder))
        request = RunRequest(
            scenario=BASELINE,
            seed=evaluation.seed,
            scale=evaluation.scale,
            region=evaluation.region,
        )
        model = build_model(scenario, request, parameters_dir=parameters)
        while model.year < evaluation.end_year:
            model.step()
    indicators = model.indicator_table()
    indicators = indicators[indicators["year"] <= evaluation.end_year].reset_index(drop=True)
    commuting = model.commuting_table()
    commuting = commuting[commuting["year"] == int(commuting["year"].min())]
    return RunTables(indicators, commuting.reset_index(drop=True))


def evaluate_all(
    evaluations: Iterable[Evaluation],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[RunTables]:
    """The tables of every evaluation, in order, on ``executor`` (None: in this process)."""
    evaluations = list(evaluations)
    if executor is None:
        results = []
        for i, evaluation in enumerate(evaluations):
            results.append(evaluate(evaluation))
            if progress:
                progress(i + 1, len(evaluations))
        return results
    futures = [executor.submit(evaluate, evaluation) for evaluation in evaluations]
    results = []
    for i, future in enumerate(futures):
        results.append(future.result())
        if progress:
            progress(i + 1, len(evaluations))
    return results
