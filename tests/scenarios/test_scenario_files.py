"""Scenario files: the lever catalogue, ``extends``, validation with line numbers, fuzzing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.construction import ConstructionLevers
from model.emissions.parameters import SITING_RULES, STATION_CARRIERS
from model.emissions.stations import EnergyLevers
from model.migration import SETTLEMENT_RULES, SettlementPolicy
from model.mode_choice import ModeChoiceParameters, TransportLevers
from model.parameters import load_parameters
from model.region_model import scaled_growth
from scenarios.cli import main
from scenarios.levers import TABLE_KINDS, load_catalogue, load_names, markdown
from scenarios.runner import RunRequest, run_scenario
from scenarios.scenario import (
    ScenarioError,
    construction_levers,
    energy_levers,
    library_names,
    line_of,
    load_scenario,
    population_growth_factor,
    scenario_hash,
    settlement_policy,
    transport_levers,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue()


# --- the lever catalogue -------------------------------------------------------------------


def test_catalogue_defaults_are_what_the_model_does_without_the_lever():
    """An empty scenario gives the model exactly its own defaults, lever by lever."""
    empty = {"name": "empty"}
    assert settlement_policy(empty) == SettlementPolicy()
    assert construction_levers(empty) == ConstructionLevers()
    params = load_parameters(ModeChoiceParameters)
    assert transport_levers(empty) == TransportLevers(
        toll_ring_nok_per_passage=params.toll_ring_nok_per_passage,
        remote_work_share=params.remote_work_share,
    )
    defaults = energy_levers(empty)
    model_defaults = EnergyLevers()
    for name in ("stations", "station_count", "siting", "siting_start_year", "headroom_mw"):
        assert getattr(defaults, name) == getattr(model_defaults, name), name
    assert population_growth_factor(empty) == 1.0


def test_catalogue_choices_and_names_match_the_model():
    assert CATALOGUE.levers["settlement.rule"].choices == SETTLEMENT_RULES
    assert CATALOGUE.levers["energy_stations.siting"].choices == SITING_RULES
    carriers = CATALOGUE.levers["energy_stations.station"].fields["carriers"]
    assert carriers.choices == STATION_CARRIERS
    names = load_names()
    assert len(names.municipalities) == 104 and "0301" in names.municipalities
    assert "Oslo S" in names.stations and "ringeriksbanen" in names.rail_projects


def test_every_lever_has_unit_range_default_and_labels():
    for key, lever in CATALOGUE.levers.items():
        assert lever.label_nb and lever.label_en and lever.help_nb and lever.help_en, key
        assert lever.default is not None or lever.default_en, key
        if lever.kind in ("number", "integer"):
            assert lever.unit_en and lever.minimum is not None and lever.maximum is not None, key
            assert lever.minimum < lever.maximum, key
            if lever.default is not None:
                assert lever.minimum <= lever.default <= lever.maximum, key


def test_lever_reference_page_is_generated_from_the_catalogue():
    page = (PROJECT_ROOT / "docs" / "levers.md").read_text(encoding="utf-8")
    assert page == markdown(), (
        "docs/levers.md is stale: python -m scenarios.levers > docs/levers.md"
    )
    for key, lever in CATALOGUE.levers.items():
        written = f"`[{key}]` table" if lever.kind in TABLE_KINDS else f"`{lever.name}`"
        assert written in page, key


# --- extends -------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_extends_inherits_merges_and_overrides(tmp_path: Path):
    write(
        tmp_path,
        "parent",
        'name = "parent"\nextends = "ringeriksbanen"\n[transport]\n'
        "road_price_nok_per_km = 1.0\npt_fare_factor = 0.5\n",
    )
    child = write(
        tmp_path,
        "child",
        'name = "child"\nextends = "parent.toml"\n[transport]\n'
        "road_price_nok_per_km = 3.0\n[rail]\nrikstunnel = 2040\n",
    )
    scenario = load_scenario(str(child))
    assert scenario["extends"] == ["parent", "ringeriksbanen", "baseline"]
    # Tables merge key by key: the baseline's IC projects, ringeriksbanen's, the child's own.
    assert scenario["rail"] == {
        "intercity_vestfold": 2026,
        "intercity_dovre": 2028,
        "ringeriksbanen": 2032,
        "rikstunnel": 2040,
    }
    assert scenario["transport"] == {"road_price_nok_per_km": 3.0, "pt_fare_factor": 0.5}
    assert scenario["settlement"] == load_scenario("baseline")["settlement"]
    assert "title" not in scenario  # texts are a file's own


def test_a_scenario_without_extends_builds_on_the_baseline(tmp_path: Path):
    path = write(tmp_path, "plain", 'name = "plain"\n')
    scenario = load_scenario(str(path))
    baseline = load_scenario("baseline")
    assert scenario["extends"] == ["baseline"]
    assert {k: v for k, v in scenario.items() if k not in ("name", "extends")} == {
        k: v for k, v in baseline.items() if k not in ("name", "title", "description")
    }


def test_circular_extends_is_refused(tmp_path: Path):
    write(tmp_path, "a", 'name = "a"\nextends = "b.toml"\n')
    write(tmp_path, "b", 'name = "b"\nextends = "c.toml"\n')
    write(tmp_path, "c", 'name = "c"\nextends = "a.toml"\n')
    with pytest.raises(ScenarioError, match=r"'extends' is circular \(a.toml -> b.toml -> c.toml"):
        load_scenario(str(tmp_path / "a.toml"))
    write(tmp_path, "self", 'name = "self"\nextends = "self.toml"\n')
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(str(tmp_path / "self.toml"))


def test_extending_a_missing_scenario_names_the_line(tmp_path: Path):
    path = write(tmp_path, "orphan", '# my scenario\nname = "orphan"\nextends = "ringeriksbane"\n')
    with pytest.raises(ScenarioError) as error:
        load_scenario(str(path))
    assert "orphan.toml, line 3: field 'extends' is 'ringeriksbane', which is not found" in str(
        error.value
    )
    assert "ringeriksbanen" in str(error.value)  # the library is listed


def test_an_error_in_a_parent_names_the_parent_file(tmp_path: Path):
    write(tmp_path, "parent", 'name = "parent"\n[transport]\npt_fare_factor = 9\n')
    child = write(tmp_path, "child", 'name = "child"\nextends = "parent.toml"\n')
    with pytest.raises(ScenarioError, match=r"parent\.toml, line 3: field 'transport.pt_fare"):
        load_scenario(str(child))


def test_hash_ignores_texts_but_not_levers(tmp_path: Path):
    a = load_scenario(str(write(tmp_path, "a", 'name = "x"\n[title]\nen = "One"\n')))
    b = load_scenario(str(write(tmp_path, "b", 'name = "x"\n[title]\nen = "Two"\n')))
    c = load_scenario(
        str(write(tmp_path, "c", 'name = "x"\n[growth]\npopulation_growth_factor = 1.1\n'))
    )
    assert scenario_hash(a) == scenario_hash(b) != scenario_hash(c)


# --- validation ----------------------------------------------------------------------------

STATION = '[[energy_stations.station]]\nname = "A"\nlat = 59.93\nlon = 10.84\nstart_year = 2026\n'


@pytest.mark.parametrize(
    "text, message",
    [
        ("[railway]\nx = 1\n", "line 2: field 'railway' is unknown; allowed: name, extends"),
        ("[transport]\nroad_pricing = 2\n", "line 3: field 'transport.road_pricing' is unknown"),
        (
            '[transport]\nroad_price_nok_per_km = "2"\n',
            "line 3: field 'transport.road_price_nok_per_km' is '2'; allowed: a number from 0 "
            "to 20 (NOK per car-km)",
        ),
        ("[transport]\nroad_price_nok_per_km = 50\n", "is 50; allowed: a number from 0 to 20"),
        ("[transport]\npt_fare_factor = nan\n", "is nan; allowed: a number from 0 to 5"),
        ("[growth]\npopulation_growth_factor = true\n", "is True; allowed: a number"),
        (
            '[construction]\nmulti_core_towns = ["3205", "9999"]\n',
            "line 3: field 'construction.multi_core_towns' names municipality '9999', which is "
            "unknown; allowed: a list of 4-digit municipality numbers",
        ),
        (
            '[settlement]\nrule = "quotas"\nquotas = { "0301" = 5, "030" = 2 }\n',
            "field 'settlement.quotas.030' names municipality '030', which is unknown",
        ),
        (
            '[construction]\nstation_densification_stations = ["Oslo S", "Gotham"]\n',
            "field 'construction.station_densification_stations' names station 'Gotham', which "
            "is unknown; allowed: a list of station names",
        ),
        (
            "[rail]\nringeriksbanen = 2060\n",
            "line 3: field 'rail.ringeriksbanen' is 2060; allowed: an opening year from 2024 to "
            "2050 (the model's horizon)",
        ),
        ("[rail]\nringeriksbanen = 2031.5\n", "field 'rail.ringeriksbanen' is 2031.5"),
        (
            "[rail]\nringerike = 2032\n",
            "field 'rail.ringerike' is unknown; allowed: ringeriksbanen",
        ),
        ("[energy_stations]\nstart_year = 2023\n", "allowed: a year from 2024 to 2050"),
        (STATION + STATION, "field 'energy_stations.station' repeats a name"),
        (
            STATION + "power_mw = -2\n",
            "line 7: field 'energy_stations.station[0].power_mw' is -2; allowed: a number from "
            "0 to 200 (MW)",
        ),
        ('[climate]\n"0301" = { target_years = [2060], cut_share = [0.5] }\n', "target_years"),
        ('name2 = "y"\n', "field 'name2' is unknown"),
        ("extends = 3\n", "line 2: field 'extends' is 3; allowed: the name of a library"),
        ('[foresight]\ngrowth = "huge"\n', "field 'foresight.growth' is 'huge'; allowed: strong"),
        ('[title]\nde = "Hallo"\n', "field 'title.de' is 'Hallo'; allowed: text in nb or en"),
    ],
)
def test_bad_files_are_refused_with_file_line_field_value_and_allowed(
    tmp_path: Path, text: str, message: str
):
    path = write(tmp_path, "bad", 'name = "x"\n' + text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(str(path))
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


@pytest.mark.parametrize("name", ["", "../up", "a b", "x" * 65, "æøå"])
def test_a_name_that_cannot_name_a_run_folder_is_refused(tmp_path: Path, name: str):
    path = write(tmp_path, "bad", f"name = {name!r}\n".replace("'", '"'))
    with pytest.raises(ScenarioError, match="field 'name'"):
        load_scenario(str(path))


def test_line_of_finds_keys_tables_and_list_items():
    text = (
        'name = "x"\n[transport]\n# a comment\nroad_price_nok_per_km = 2\n'
        '[[energy_stations.station]]\nname = "A"\n[[energy_stations.station]]\nname = "B"\n'
        'lat = 70\n[grid]\nheadroom_mw = { "0301" = 5 }\n'
    )
    assert line_of(text, "transport.road_price_nok_per_km") == 4
    assert line_of(text, "transport.pt_fare_factor") == 2  # not written: its table
    assert line_of(text, "energy_stations.station[1].lat") == 9
    assert line_of(text, "grid.headroom_mw.0301") == 11  # inside an inline table
    assert line_of(text, "climate") is None


# --- fuzzing: the loader never crashes and never starts a run on invalid input --------------

SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=("Cs",)), max_size=6), inner, max_size=3
        )
    ),
    max_leaves=8,
)
THEMES = sorted(CATALOGUE.themes)
LEVER_NAMES = sorted({lever.name for lever in CATALOGUE.levers.values()})
TABLES = st.dictionaries(
    st.sampled_from(LEVER_NAMES) | st.sampled_from(["0301", "3205", "x"]), VALUES, max_size=3
)
SCENARIOS = st.fixed_dictionaries(
    {"name": st.sampled_from(["fuzz", "", "a/b"]) | st.text(max_size=4) | st.integers()},
    optional={
        "extends": st.sampled_from(["baseline", "ringeriksbanen", "nope", "../x.toml", "\x00"])
        | st.integers(),
        "title": VALUES,
        **{theme: TABLES | VALUES for theme in THEMES},
        "stray": VALUES,
    },
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refused_without_a_run(path: Path) -> None:
    """``path`` is invalid: the runner refuses it before building anything."""
    events = []
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        with pytest.raises(ScenarioError):
            run_scenario(
                RunRequest(scenario=str(path), scale=0.01, end=2024),
                runs_dir,
                lambda *event: events.append(event),
            )
        assert events == [] and not runs_dir.exists()


@FUZZ
@given(SCENARIOS)
def test_random_scenarios_load_or_are_refused_cleanly(scenario: dict):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(tomli_w.dumps(scenario), encoding="utf-8")
        try:
            resolved = load_scenario(str(path))
        except ScenarioError as error:
            assert str(error).startswith(str(path)) or "fuzz.toml" in str(error)
            _refused_without_a_run(path)
            return
        # Accepted: every lever builds.
        assert resolved["name"] == scenario["name"]
        settlement_policy(resolved), construction_levers(resolved), energy_levers(resolved)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_random_bytes_are_refused_cleanly(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "noise.toml"
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogatepass")
        path.write_bytes(content)
        try:
            load_scenario(str(path))
        except ScenarioError as error:
            assert "noise.toml" in str(error)
            _refused_without_a_run(path)


def test_cli_refuses_a_bad_scenario_with_one_line_and_writes_nothing(tmp_path: Path, capsys):
    path = write(tmp_path, "bad", 'name = "x"\n[rail]\nringeriksbanen = 2070\n')
    runs_dir = tmp_path / "runs"
    assert main(["run", "--scenario", str(path), "--runs-dir", str(runs_dir), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "line 3: field 'rail.ringeriksbanen' is 2070" in err
    assert not runs_dir.exists()


# --- the library ---------------------------------------------------------------------------


def test_library_has_the_nullalternativ_and_four_foresight_narratives():
    names = library_names()
    for required in (
        "baseline",
        "ringeriksbanen",
        "intercity_complete",
        "rikstunnel",
        "settlement_dispersed",
        "settlement_concentrated",
        "energy_stations_corridors",
        "energy_stations_dense",
        "densify_stations",
        "road_pricing",
    ):
        assert required in names
    corners = set()
    docs = (PROJECT_ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for name in names:
        assert f"`{name}`" in docs, f"docs/scenarios.md does not describe {name}"
        scenario = load_scenario(name)
        assert scenario["title"]["nb"] and scenario["title"]["en"], name
        assert scenario["description"]["nb"] and scenario["description"]["en"], name
        if name != "baseline":
            assert scenario["extends"][-1] == "baseline", name
        if "foresight" in scenario:
            story = scenario["foresight"]
            assert len(story["story_nb"]) > 300 and len(story["story_en"]) > 300, name
            corners.add((story["growth"], story["pattern"]))
            growth = population_growth_factor(scenario)
            assert growth > 1 if story["growth"] == "strong" else growth < 1, name
    assert corners == {
        ("strong", "oslo"),
        ("strong", "multi_core"),
        ("weak", "oslo"),
        ("weak", "multi_core"),
    }


def test_baseline_holds_the_decided_rail_projects_only():
    """The nullalternativ: under construction in 2024 (IC Vestfold, IC Dovre to Hamar)."""
    assert load_scenario("baseline")["rail"] == {
        "intercity_vestfold": 2026,
        "intercity_dovre": 2028,
    }


def test_growth_lever_scales_the_projections_growth():
    projection = {2024: 100.0, 2025: 110.0, 2050: 200.0}
    assert scaled_growth(projection, 1.0) == projection
    assert scaled_growth(projection, 0.0) == {2024: 100.0, 2025: 100.0, 2050: 100.0}
    assert scaled_growth(projection, 1.5)[2050] == 250.0
    with pytest.raises(ValueError, match="population_growth_factor"):
        scaled_growth(projection, -1.0)


def test_growth_lever_moves_the_regions_population_as_documented():
    """Factor 0 holds the population at the base year, 2 about doubles the projection's growth.

    Arrivals fill the gap to the scaled projection; those who find no dwelling leave again,
    so with strong growth the housing market may hold the population a little below it.
    """
    from model.region_model import RegionModel

    populations = {}
    for factor in (0.0, 2.0):
        model = RegionModel(seed=2, scale=0.01, population_growth_factor=factor)
        start = model.indicator_table()
        base = start.query("kommunenummer == 'region' and indicator == 'population'")
        for _ in range(2):
            model.step()
        table = model.indicator_table().query(
            "kommunenummer == 'region' and indicator == 'population'"
        )
        populations[factor] = dict(zip(table["year"], table["value"], strict=True))
        projected = model.indicator_table().query(
            "kommunenummer != 'region' and indicator == 'population_projected_ssb'"
        )
        ssb_growth = projected.groupby("year")["value"].sum()
        ssb_growth = ssb_growth[2026] - ssb_growth[2024]
        assert float(base["value"].iloc[0]) == populations[factor][2024]
        growth = populations[factor][2026] - populations[factor][2024]
        if factor == 0.0:  # within a few households (about 100 persons each at scale 0.01)
            assert abs(growth) < 0.1 * ssb_growth + 2000, growth
        else:
            assert 1.6 * ssb_growth < growth <= 2.0 * ssb_growth + 2000, growth
    assert populations[2.0][2026] > populations[0.0][2026]
