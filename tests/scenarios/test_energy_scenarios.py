"""Energy, grid and climate levers in scenario files; the reference path from the baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.emissions.ledger import LEDGER_COLUMNS
from model.emissions.stations import SitingError
from scenarios.runner import RunRequest, run_scenario
from scenarios.scenario import ScenarioError, energy_levers, load_scenario

STATION = '[[energy_stations.station]]\nname = "A"\nlat = 59.93\nlon = 10.84\nstart_year = 2026\n'


@pytest.mark.parametrize(
    "text, message",
    [
        ('[energy_stations]\nsiting = "everywhere"\n', "field 'energy_stations.siting'"),
        ("[energy_stations]\ncount = 500\n", "field 'energy_stations.count' is 500"),
        ("[energy_stations]\nstart_year = 2070\n", "field 'energy_stations.start_year'"),
        ("[energy_stations]\nspacing_km = 50\n", "field 'energy_stations.spacing_km' is unknown"),
        (STATION + 'carriers = ["diesel"]\n', "field 'energy_stations.station[0].carriers'"),
        (STATION + "power_mw = -2\n", "field 'energy_stations.station[0].power_mw' is -2"),
        (STATION + "colour = 1\n", "field 'energy_stations.station[0].colour' is unknown"),
        (STATION.replace("lat = 59.93", "lat = 40.0"), "station[0].lat' is 40.0"),
        (STATION.replace('name = "A"\n', ""), "field 'energy_stations.station[0].name' missing"),
        ('[grid]\nheadroom_mw = { "9999" = 5.0 }\n', "names municipality '9999'"),
        ("[grid]\nheadroom_growth_per_year = 3\n", "field 'grid.headroom_growth_per_year'"),
        (
            '[climate]\n"0301" = { target_years = [2040, 2030], cut_share = [0.5, 0.9] }\n',
            "field 'climate.0301.target_years'",
        ),
        (
            '[climate]\n"0301" = { target_years = [2030], cut_share = [1.5] }\n',
            "field 'climate.0301.cut_share' is 1.5",
        ),
    ],
)
def test_bad_energy_levers_are_refused_with_the_file_and_field(
    tmp_path: Path, text: str, message: str
):
    path = tmp_path / "bad_energy.toml"
    path.write_text('name = "x"\n' + text, encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(str(path))
    assert "bad_energy.toml" in str(error.value)
    assert message in str(error.value)


def test_energy_levers_are_read_with_defaults_for_what_a_station_leaves_out(tmp_path: Path):
    path = tmp_path / "ok.toml"
    path.write_text(
        'name = "ok"\n[energy_stations]\ncount = 3\nsiting = "logistics_hubs"\n'
        + STATION
        + '[grid]\nheadroom_mw = { "3205" = 12.5 }\n'
        + '[climate]\n"3205" = { target_years = [2030, 2050], cut_share = [0.6, 0.95] }\n',
        encoding="utf-8",
    )
    levers = energy_levers(load_scenario(str(path)))
    assert levers.station_count == 3 and levers.siting == "logistics_hubs"
    (station,) = levers.stations
    assert station.spec.power_mw == 4.0 and station.spec.carriers == ("electricity",)
    assert levers.headroom_mw == {"3205": 12.5}
    assert levers.climate_targets["3205"] == ((2030, 2050), (0.6, 0.95))


def test_a_station_off_the_region_is_refused_before_any_year_runs(tmp_path: Path):
    path = tmp_path / "sweden.toml"
    path.write_text(
        'name = "sweden"\n' + STATION.replace("lat = 59.93\nlon = 10.84", "lat = 59.3\nlon = 12.9"),
        encoding="utf-8",
    )
    with pytest.raises(SitingError, match="energy station 'A'"):
        run_scenario(RunRequest(scenario=str(path), scale=0.01, end=2024), tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_scenario_takes_the_baseline_as_its_reference_path(tmp_path: Path):
    request = RunRequest(scenario="road_pricing", scale=0.01, end=2026)
    scenario = run_scenario(request, tmp_path)
    reference = scenario.manifest["reference_run"]
    (baseline,) = [p for p in tmp_path.iterdir() if p.name == reference]
    assert "baseline" in reference
    ledger = scenario.table("emissions")
    assert list(ledger.columns) == list(LEDGER_COLUMNS)
    budget = scenario.table("climate_budget").set_index(["year", "kommunenummer"])
    from scenarios.store import StoredRun

    base = StoredRun(baseline, {})
    base_budget = base.table("climate_budget").set_index(["year", "kommunenummer"])
    assert np.allclose(budget["reference_co2e_tonnes"], base_budget["measure_co2e_tonnes"])
    assert np.allclose(budget["target_co2e_tonnes"], base_budget["target_co2e_tonnes"])
    # Road pricing cuts car emissions below the reference path in every year.
    cars = ledger[ledger["source"] == "Personbiler"].groupby("year")["co2e_tonnes"].sum()
    base_ledger = base.table("emissions")
    base_cars = (
        base_ledger[base_ledger["source"] == "Personbiler"].groupby("year")["co2e_tonnes"].sum()
    )
    assert (cars < base_cars * 0.95).all()
    # A second scenario reuses the stored baseline instead of running it again.
    again = run_scenario(RunRequest(scenario="ringeriksbanen", scale=0.01, end=2026), tmp_path)
    assert again.manifest["reference_run"] == reference
