"""The command line and the results store, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from scenarios import store
from scenarios.cli import main
from scenarios.scenario import ScenarioError, library_names, load_scenario, scenario_hash
from scenarios.store import list_runs

RUN = ["run", "--scenario", "baseline", "--start", "2024", "--end", "2026", "--scale", "0.02"]


def run_once(runs_dir: Path, seed: int) -> Path:
    before = {run.run_id for run in list_runs(runs_dir)}
    assert main([*RUN, "--seed", str(seed), "--runs-dir", str(runs_dir), "--quiet"]) == 0
    (new,) = [run for run in list_runs(runs_dir) if run.run_id not in before]
    return new.path


def test_run_writes_manifest_and_long_indicators(tmp_path: Path, capsys):
    folder = run_once(tmp_path, seed=1)
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in (
        "scenario",
        "scenario_hash",
        "seed",
        "scale",
        "start",
        "end",
        "code",
        "packages",
        "wall_time_seconds",
        "data_bundle",
    ):
        assert key in manifest, key
    assert manifest["scenario_hash"] == scenario_hash(load_scenario("baseline"))
    assert manifest["seed"] == 1 and manifest["scale"] == 0.02
    assert manifest["packages"]["mesa"].startswith("3.")
    indicators = pq.read_table(folder / "indicators.parquet").to_pandas()
    assert list(indicators.columns) == ["year", "kommunenummer", "indicator", "value", "unit"]
    assert sorted(indicators["year"].unique()) == [2024, 2025, 2026]
    assert indicators["kommunenummer"].str.fullmatch(r"\d{4}|region").all()
    for name in ("population", "households", "employed", "jobs", "dwellings"):
        assert name in set(indicators["indicator"]), name
    base = indicators.query("year == 2024 and kommunenummer == 'region'").set_index("indicator")
    assert base.loc["population", "value"] == pytest.approx(2_328_796)
    assert base.loc["jobs", "value"] == 1_227_151
    od = pq.read_table(folder / "od_commuting.parquet").to_pandas()
    assert list(od.columns) == [
        "year",
        "home_kommunenummer",
        "work_kommunenummer",
        "persons",
        "car",
        "pt",
        "rail",
        "bike",
        "walk",
    ]
    modes = od[["car", "pt", "bike", "walk"]].sum(axis=1)
    assert np.allclose(modes, od["persons"], atol=0.01)  # expected main modes add up
    assert sorted(od["year"].unique()) == [2024, 2025, 2026]
    out = capsys.readouterr().out
    assert "population" in out and "2,328,796" in out


def test_same_seed_gives_byte_identical_indicators_other_seed_differs(tmp_path: Path):
    first = run_once(tmp_path, seed=11)
    second = run_once(tmp_path, seed=11)
    third = run_once(tmp_path, seed=12)
    first_bytes = (first / "indicators.parquet").read_bytes()
    assert first_bytes == (second / "indicators.parquet").read_bytes()
    assert first_bytes != (third / "indicators.parquet").read_bytes()


def test_runs_lists_stored_runs(tmp_path: Path, capsys):
    folder = run_once(tmp_path, seed=2)
    capsys.readouterr()
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert folder.name in capsys.readouterr().out


def test_report_draws_the_population_map_and_series(tmp_path: Path):
    from scenarios.report import population_map
    from scenarios.store import open_run

    folder = run_once(tmp_path, seed=3)
    assert main(["report", folder.name, "--runs-dir", str(tmp_path)]) == 0
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert folder.name in html and "Where people live" in html and "Region totals" in html
    cells = open_run(tmp_path, folder.name).table("cells")
    z = population_map(cells, 2026).data[0].z
    assert np.count_nonzero(~np.isnan(z)) == int((cells.query("year == 2026").population > 0).sum())


def test_bad_input_gives_one_line_error_and_writes_nothing(tmp_path: Path, capsys):
    runs_dir = tmp_path / "runs"
    assert main([*RUN, "--runs-dir", str(runs_dir), "--data-dir", str(tmp_path / "nope")]) == 2
    assert "data bundle folder not found" in capsys.readouterr().err
    assert main([*RUN, "--runs-dir", str(runs_dir), "--region", "nordland"]) == 2
    assert "region 'nordland' is unknown" in capsys.readouterr().err
    assert main([*RUN[:6], "2020", *RUN[7:], "--runs-dir", str(runs_dir)]) == 2
    assert "years" in capsys.readouterr().err
    assert list_runs(runs_dir) == []


def test_invalid_scenario_file_is_refused_with_the_field(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nrailway = 3\n')
    with pytest.raises(ScenarioError, match=r"bad\.toml, line 2: field 'railway' is unknown"):
        load_scenario(str(path))


def test_killed_run_leaves_no_run_folder(tmp_path: Path):
    """SIGKILL in the middle of a run: no run folder appears."""
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "scenarios.cli", "run", "--scale", "0.2", "--end", "2050"]
    process = subprocess.Popen(
        [*command, "--runs-dir", str(runs_dir)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    with process.stderr:
        for line in process.stderr:  # wait until it is simulating years
            if "years" in line:
                break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert list_runs(runs_dir) == []
    assert not runs_dir.exists() or not [p for p in runs_dir.iterdir()]


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch):
    calls = []
    original = store.write_parquet

    def failing_write(frame, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        original(frame, path)

    monkeypatch.setattr(store, "write_parquet", failing_write)
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(OSError, match="disk full"):
        store.write_run(tmp_path, "run-1", {"run_id": "run-1"}, {"one": frame, "two": frame})
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_abandoned_staging_folder_is_ignored_and_removed_by_the_next_run(tmp_path: Path):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    staging = tmp_path / f"{store.INCOMPLETE_PREFIX}20260101-000000-baseline-s1-abc-{dead_pid}"
    staging.mkdir()
    (staging / "indicators.parquet").write_bytes(b"half")
    assert list_runs(tmp_path) == []
    run_once(tmp_path, seed=1)
    assert not staging.exists()
    assert len(list_runs(tmp_path)) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'name = "x"\n[settlement]\nrule = "lottery"\n',
            "line 3: field 'settlement.rule' is 'lottery'; allowed: one of 'dispersed'",
        ),
        (
            'name = "x"\n[settlement]\nrefugees = 10\n',
            "line 3: field 'settlement.refugees' is unknown",
        ),
        (
            'name = "x"\n[settlement]\nrefugee_households_per_year = "many"\n',
            "is 'many'; allowed: a number from 0 to 20000 (households per year)",
        ),
        (
            'name = "x"\n[construction]\nmulti_core_share = 1.5\n',
            "field 'construction.multi_core_share' is 1.5; allowed: a number from 0 to 0.9",
        ),
        (
            'name = "x"\n[construction]\nstation_densification_radius_km = -1\n',
            "is -1; allowed: a number from 0.1 to 5 (km)",
        ),
    ],
)
def test_bad_levers_are_refused_with_the_field(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(str(path))
    assert "bad.toml" in str(error.value) and message in str(error.value)


@pytest.fixture(scope="module")
def library_runs_dir(tmp_path_factory) -> Path:
    """One runs folder for the library, so that the baseline (the reference) runs once."""
    return tmp_path_factory.mktemp("library_runs")


@pytest.mark.parametrize("name", library_names())
def test_every_library_scenario_runs_a_short_horizon(library_runs_dir: Path, name: str):
    from scenarios.runner import RunRequest, run_scenario

    run = run_scenario(RunRequest(scenario=name, scale=0.01, end=2025), library_runs_dir)
    resolved = load_scenario(name)
    assert run.manifest["scenario"] == resolved
    assert run.manifest["scenario_hash"] == scenario_hash(resolved)
    if name != "baseline":  # the manifest holds the resolved scenario, inherited levers too
        assert run.manifest["scenario"]["extends"] == ["baseline"]
        for project, year in load_scenario("baseline")["rail"].items():
            assert run.manifest["scenario"]["rail"][project] == year
    assert len(run.table("indicators")) > 0


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\n[rail]\nrikstunnelen = 2030\n', "field 'rail.rikstunnelen' is unknown"),
        ('name = "x"\n[rail]\nringeriksbanen = 2070\n', "opening year from 2024 to 2050"),
    ],
)
def test_bad_rail_levers_are_refused(tmp_path: Path, text: str, message: str):
    path = tmp_path / "rail.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(str(path))
