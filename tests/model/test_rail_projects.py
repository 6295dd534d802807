"""Rail projects as levers: the network, skims and commuting change from the opening year.

The catalogue tests open each project of ``rail_projects.toml`` alone on the base network and
check what it promises: no rail time gets longer, the times it targets get shorter by its
sourced savings, waits at the stations it serves get shorter, and the scenarios load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from model.bundle import load_bundle
from model.housing.market import access_elasticity, travel_adjusted_access
from model.parameters import ParameterError, load_parameters
from model.region_model import RegionModel
from model.transport.network import (
    RailNetwork,
    RailParameters,
    build_rail_network,
    load_rail_projects,
    rail_route,
    station_times_min,
    station_wait_min,
    with_projects,
    with_section_saving,
)
from scenarios.scenario import load_scenario, rail_projects


@pytest.fixture(scope="module")
def with_and_without():
    runs = {}
    for name, projects in (("base", {}), ("ringeriksbanen", {"ringeriksbanen": 2025})):
        model = RegionModel(seed=3, scale=0.02, rail_projects=projects)
        costs = []
        for _ in range(2):
            codes = list(model.world.codes)
            costs.append(model.travel.commuting_cost_min[codes.index("3305"), codes.index("0301")])
            model.step()
        runs[name] = (model, costs)
    return runs


def test_ringeriksbanen_shortens_honefoss_oslo_from_its_opening_year(with_and_without):
    base_costs = with_and_without["base"][1]
    project_costs = with_and_without["ringeriksbanen"][1]
    assert project_costs[0] == pytest.approx(base_costs[0])  # 2024: not open yet
    assert project_costs[1] < base_costs[1] - 5  # 2025: open, minutes of generalised time


def test_ringeriksbanen_raises_commuting_from_ringerike_to_oslo(with_and_without):
    def ringerike_to_oslo(model):
        od = model.commuting_table()
        rows = od[
            (od["year"] == 2025)
            & (od["home_kommunenummer"] == "3305")
            & (od["work_kommunenummer"] == "0301")
        ]
        return float(rows["persons"].sum())

    base = ringerike_to_oslo(with_and_without["base"][0])
    project = ringerike_to_oslo(with_and_without["ringeriksbanen"][0])
    assert project > 1.15 * base


def test_ringeriksbanen_raises_the_rail_share_of_ringerike_oslo_commuters(with_and_without):
    def rail_share(model, year):
        od = model.commuting_table()
        rows = od[
            (od["year"] == year)
            & (od["home_kommunenummer"] == "3305")
            & (od["work_kommunenummer"] == "0301")
        ]
        return float(rows["rail"].sum() / rows["persons"].sum())

    base, project = with_and_without["base"][0], with_and_without["ringeriksbanen"][0]
    assert rail_share(project, 2024) == pytest.approx(rail_share(base, 2024), abs=0.01)
    assert rail_share(project, 2025) > rail_share(base, 2025) + 0.15


def test_ringeriksbanen_raises_the_housing_accessibility_of_ringerike_most(with_and_without):
    """Where households choose to live moves with the network: the cells the project brings
    closer to jobs gain accessibility in the housing choice, Ringerike, Hole and Jevnaker
    most, and no cell loses any (a project only shortens times)."""
    base, project = with_and_without["base"][0], with_and_without["ringeriksbanen"][0]
    assert np.array_equal(base.housing_market.access, base._housing_access_base)  # no change
    ratio = project.housing_market.access / project._housing_access_base
    assert ratio.min() >= 1.0 - 1e-12
    world = project.world
    population = project.cell_counts()["population"]
    by_municipality = {
        code: np.average(ratio[cells], weights=population[cells] + 1e-9)
        for m, code in enumerate(world.codes)
        if (cells := world.cell_municipality == m).any()
    }
    top_three = sorted(by_municipality, key=by_municipality.get)[-3:]
    assert set(top_three) == {"3305", "3310", "3236"}, top_three  # Ringerike, Hole, Jevnaker
    assert by_municipality["3305"] > 1.1
    assert by_municipality["0301"] < 1.01
    assert 0.2 < project.housing_access_elasticity < 2.0


def test_access_elasticity_is_the_population_weighted_log_slope():
    rng = np.random.default_rng(0)
    job_access = rng.uniform(1.0, 1000.0, 500)
    population = rng.uniform(0.0, 50.0, 500)
    population[:50] = 0.0  # empty cells do not count
    access = 0.01 * job_access**0.5
    access[:50] = 1.0
    assert access_elasticity(access, job_access, population) == pytest.approx(0.5)
    adjusted = travel_adjusted_access(access, np.full(500, 1.21), 0.5)
    assert np.allclose(adjusted, access * 1.1)
    assert np.array_equal(travel_adjusted_access(access, np.ones(500), 0.5), access)


def test_unknown_rail_project_is_refused():
    with pytest.raises(ValueError, match="rail project 'rikstunnelen' is unknown"):
        RegionModel(seed=1, scale=0.01, rail_projects={"rikstunnelen": 2030})


CATALOGUE = load_rail_projects()


@dataclass(frozen=True)
class Opened:
    """The base network and one project opened on it, with their skims."""

    base: RailNetwork
    network: RailNetwork
    base_min: np.ndarray
    project_min: np.ndarray
    base_wait_min: np.ndarray
    project_wait_min: np.ndarray

    def oslo_min(self, station: str) -> tuple[float, float]:
        """In-vehicle minutes Oslo S -> station, before and after."""
        o, s = self.base.station_index("Oslo S"), self.base.station_index(station)
        return float(self.base_min[o, s]), float(self.project_min[o, s])


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


@pytest.fixture(scope="module")
def rail_params():
    return load_parameters(RailParameters)


@pytest.fixture(scope="module")
def base(bundle, rail_params):
    return build_rail_network(bundle, rail_params)


@pytest.fixture(scope="module")
def opened(base, rail_params):
    base_min, base_wait = station_times_min(base), station_wait_min(base, rail_params)
    runs = {}
    for name, project in CATALOGUE.items():
        network = with_projects(base, [project])
        runs[name] = Opened(
            base,
            network,
            base_min,
            station_times_min(network),
            base_wait,
            station_wait_min(network, rail_params),
        )
    return runs


def test_catalogue_holds_the_planners_projects():
    assert {
        "ringeriksbanen",
        "intercity_vestfold",
        "intercity_ostfold",
        "intercity_dovre",
        "rikstunnel",
        "kongsvingerbanen",
        "hovedbanen",
    } <= set(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_project_names_only_existing_stations_and_lines(name, bundle, opened):
    project = CATALOGUE[name]
    stations = bundle["rail_stations.csv"]
    active = set(stations.loc[~stations["is_museum_railway"], "station_name"])
    pairs = [*project.edge_time_min, *project.section_saving_min]
    named = {station for pair in pairs for station in pair.split("|")}
    named |= set(project.extra_departures_24h)
    assert named <= active, sorted(named - active)
    assert all(len(pair.split("|")) == 2 for pair in pairs)
    network = opened[name].network
    assert set(project.line_departures_factor) <= set(network.lines)
    if project.line:  # every station the project names lies on its line once it is open
        for station in named:
            assert project.line in network.station_lines[network.station_index(station)], station


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_opening_a_project_never_makes_a_rail_time_or_wait_longer(name, opened):
    run = opened[name]
    connected = np.isfinite(run.base_min)
    assert np.all(np.isfinite(run.project_min[connected]))
    assert np.all(run.project_min[connected] <= run.base_min[connected] + 1e-9)
    assert np.all(run.project_wait_min <= run.base_wait_min + 1e-9)
    improved = (run.project_min < run.base_min - 1e-6) | (
        run.project_wait_min < run.base_wait_min - 1e-6
    )
    assert improved.any()


@pytest.mark.parametrize(
    "name, station, at_least_min",
    [
        ("ringeriksbanen", "Hønefoss", 60.0),
        ("intercity_vestfold", "Tønsberg", 7.0),
        ("intercity_vestfold", "Holmestrand", 3.0),
        ("intercity_ostfold", "Moss", 1.0),
        ("intercity_ostfold", "Fredrikstad", 10.0),
        ("intercity_ostfold", "Sarpsborg", 10.0),
        ("intercity_ostfold", "Halden", 15.0),
        ("intercity_dovre", "Hamar", 10.0),
        ("intercity_dovre", "Lillehammer", 10.0),
        ("intercity_dovre_lillehammer", "Lillehammer", 10.0),
        ("kongsvingerbanen", "Kongsvinger", 2.0),
        ("hovedbanen", "Jessheim", 1.0),
    ],
)
def test_project_shortens_the_oslo_times_it_targets(name, station, at_least_min, opened):
    before, after = opened[name].oslo_min(station)
    assert after <= before - at_least_min


@pytest.mark.parametrize(
    "name, station, published_min",
    [
        ("ringeriksbanen", "Hønefoss", 35.0),  # Nye Veier, planned
        ("intercity_ostfold", "Sarpsborg", 55.0),  # Bane NOR, 0:55
        ("intercity_ostfold", "Halden", 68.0),  # Bane NOR, 1:08
    ],
)
def test_project_meets_its_published_oslo_time(name, station, published_min, opened):
    assert opened[name].oslo_min(station)[1] == pytest.approx(published_min, rel=0.1)


@pytest.mark.parametrize(
    "name, pair",
    [(name, pair) for name, project in CATALOGUE.items() for pair in project.section_saving_min],
)
def test_section_saving_is_taken_exactly_off_its_section(name, pair, opened):
    origin, destination = pair.split("|")
    run = opened[name]
    before = rail_route(run.base, origin, destination)
    after = rail_route(run.network, origin, destination)
    saving = CATALOGUE[name].section_saving_min[pair]
    assert after.stations == before.stations
    assert after.in_vehicle_min == pytest.approx(before.in_vehicle_min - saving)


@pytest.mark.parametrize("name", sorted(n for n, p in CATALOGUE.items() if p.extra_departures_24h))
def test_project_lowers_the_wait_at_the_stations_it_serves(name, opened, rail_params):
    run = opened[name]
    o = run.base.station_index("Oslo S")
    for station, extra in CATALOGUE[name].extra_departures_24h.items():
        s = run.base.station_index(station)
        assert run.network.station_departures_24h[s] == pytest.approx(
            run.base.station_departures_24h[s] + extra
        )
        if run.base_wait_min[o, s] > rail_params.wait_min_min:  # else already at the floor
            assert run.project_wait_min[o, s] < run.base_wait_min[o, s], station


def test_rikstunnel_raises_departures_on_the_lines_through_oslo_only(opened, rail_params):
    run = opened["rikstunnel"]
    factors = CATALOGUE["rikstunnel"].line_departures_factor
    ratio = run.network.station_departures_24h / run.base.station_departures_24h
    for s, lines in enumerate(run.base.station_lines):
        expected = max([factors[line] for line in lines if line in factors], default=1.0)
        assert ratio[s] == pytest.approx(expected), run.base.station_names[s]
    o = run.base.station_index("Oslo S")
    for station in ("Spikkestad", "Kolbotn", "Jessheim", "Kongsvinger", "Kongsberg"):
        s = run.base.station_index(station)
        assert run.project_wait_min[o, s] < run.base_wait_min[o, s], station
    assert np.array_equal(run.project_min, run.base_min)  # no time saving claimed
    hamar, tonsberg = run.base.station_index("Hamar"), run.base.station_index("Tønsberg")
    assert ratio[hamar] == 1.0 and ratio[tonsberg] == 1.0  # left to the IC projects


def test_projects_combine_and_a_title_only_entry_changes_nothing(base, tmp_path: Path):
    everything = with_projects(base, list(CATALOGUE.values()))
    combined = station_times_min(everything)
    each = np.minimum.reduce(
        [station_times_min(with_projects(base, [p])) for p in CATALOGUE.values()]
    )
    assert np.all(combined <= each + 1e-9)  # opening more never undoes a project
    (tmp_path / "rail_projects.toml").write_text('[plain]\ntitle = "Nothing yet"\n')
    plain = load_rail_projects(tmp_path)["plain"]
    unchanged = with_projects(base, [plain])
    assert np.array_equal(unchanged.edge_min, base.edge_min)
    assert np.array_equal(unchanged.station_departures_24h, base.station_departures_24h)


@pytest.mark.parametrize(
    "effect, message",
    [
        ('[x.section_saving_min]\n"Eidsvoll|Hamar" = -5.0\n', "x.section_saving_min"),
        ('[x.line_departures_factor]\n"Hovedbanen" = 0.5\n', "x.line_departures_factor"),
        ('[x.extra_departures_24h]\n"Hamar" = -10.0\n', "x.extra_departures_24h"),
        ('[x.edge_time_min]\n"Oslo S|Ski" = 0.0\n', "x.edge_time_min"),
    ],
)
def test_a_project_that_would_worsen_the_network_is_refused(tmp_path, effect, message):
    (tmp_path / "rail_projects.toml").write_text(f'[x]\ntitle = "x"\n{effect}')
    with pytest.raises(ParameterError, match=message):
        load_rail_projects(tmp_path)


def test_section_saving_must_be_less_than_the_section(base):
    section_min = rail_route(base, "Eidsvoll", "Hamar").in_vehicle_min
    with pytest.raises(ValueError, match="Eidsvoll-Hamar"):
        with_section_saving(base, "Eidsvoll", "Hamar", section_min + 1.0)


@pytest.mark.parametrize(
    "scenario, projects",
    [
        (
            "intercity_complete",
            {
                "intercity_vestfold",
                "intercity_ostfold",
                "intercity_dovre",
                "intercity_dovre_lillehammer",
            },
        ),
        ("rikstunnel", {"rikstunnel", "intercity_vestfold", "intercity_dovre"}),
    ],
)
def test_library_scenarios_open_catalogue_projects(scenario, projects):
    opening = rail_projects(load_scenario(scenario))
    assert set(opening) == projects
    assert all(2024 <= year <= 2050 for year in opening.values())
