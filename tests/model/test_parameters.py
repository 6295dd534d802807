"""The declarative parameter files: one loader, declared ranges and checks, the overlay."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from model.commuting import CommutingParameters
from model.jobs import JobParameters
from model.mode_choice import ModeChoiceParameters
from model.parameters import (
    CALIBRATED_FILE,
    PARAMETERS_DIR,
    HousingMarketParameters,
    ParameterError,
    calibrated_values,
    effective_value,
    load_parameters,
    parameter_class,
    parameter_declaration,
    parameter_files,
)
from model.transport.network import RailParameters
from model.transport.skims import TransportParameters

# TOML files of data/parameters that are not one table of one dataclass.
OTHER_SHAPES = {"rail_projects.toml", "scorecard.toml"}

CALIBRATED = """
[fit]
date = "2026-12-03"

[values."housing_market.toml"]
"prices.vacancy_response" = 0.8
"choice.beta_access" = 1.2

[values."mode_choice.toml"."constant"]
car = -0.5
pt = -1.5
bike = -3.0
walk = 0.0
"""


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def write_calibrated(folder: Path, text: str) -> None:
    (folder / CALIBRATED_FILE).write_text(text, encoding="utf-8")


def test_the_loader_reads_the_file_a_class_declares():
    params = load_parameters(JobParameters)
    table = tomllib.loads((PARAMETERS_DIR / "jobs.toml").read_text(encoding="utf-8"))
    assert parameter_declaration(JobParameters).file_name == "jobs.toml"
    assert params.expansion_share == table["expansion_share"]
    assert params.agglomeration_radius_cells == table["agglomeration_radius_cells"]
    assert parameter_class("jobs.toml") is JobParameters


def test_a_declared_sub_table_is_read_alone():
    assert parameter_declaration(RailParameters).table == "rail"
    assert load_parameters(RailParameters) == load_parameters(TransportParameters).rail
    assert parameter_class("transport.toml") is TransportParameters


def test_a_class_without_declaration_is_refused():
    @dataclass(frozen=True)
    class Undeclared:
        x: float

    with pytest.raises(ParameterError, match="Undeclared declares no parameter file"):
        load_parameters(Undeclared)
    with pytest.raises(ParameterError, match="parameter file 'nothing.toml' is unknown"):
        parameter_class("nothing.toml")


def test_a_value_out_of_range_names_the_file_and_field(parameters_dir_copy: Path):
    replace_in(parameters_dir_copy / "jobs.toml", "expansion_share = 0.7", "expansion_share = 1.5")
    with pytest.raises(
        ParameterError, match=r"jobs\.toml: field 'expansion_share' is 1\.5; allowed: >= 0 and <= 1"
    ):
        load_parameters(JobParameters, parameters_dir_copy)


def test_the_whole_file_checks_its_sub_table_ranges_by_their_path(parameters_dir_copy: Path):
    replace_in(
        parameters_dir_copy / "transport.toml",
        "Assumption.\ndetour_factor = 1.2\n",
        "Assumption.\ndetour_factor = 5.0\n",
    )
    with pytest.raises(ParameterError, match=r"transport\.toml: field 'rail\.detour_factor' is 5"):
        load_parameters(TransportParameters, parameters_dir_copy)
    with pytest.raises(ParameterError, match=r"transport\.toml: field 'detour_factor' is 5"):
        load_parameters(RailParameters, parameters_dir_copy)


def test_the_declared_check_runs_after_the_ranges(parameters_dir_copy: Path):
    replace_in(
        parameters_dir_copy / "mode_choice.toml", "walk = 0.0 }", "walk = 0.0, ferry = 1.0 }"
    )
    with pytest.raises(ParameterError, match=r"mode_choice\.toml: field 'constant' has modes"):
        load_parameters(ModeChoiceParameters, parameters_dir_copy)


def test_without_calibrated_toml_the_files_are_read_as_they_are(tmp_path: Path):
    assert calibrated_values(tmp_path) == {}
    assert not (tmp_path / CALIBRATED_FILE).exists()


def test_the_overlay_replaces_a_scalar_and_a_dict_field(parameters_dir_copy: Path):
    write_calibrated(parameters_dir_copy, CALIBRATED)
    market = load_parameters(HousingMarketParameters, parameters_dir_copy)
    assert market.prices.vacancy_response == 0.8
    assert market.choice.beta_access == 1.2
    unchanged = load_parameters(HousingMarketParameters)
    assert market.choice.beta_space == unchanged.choice.beta_space
    assert market.moving == unchanged.moving
    mode = load_parameters(ModeChoiceParameters, parameters_dir_copy)
    assert mode.constant == {"car": -0.5, "pt": -1.5, "bike": -3.0, "walk": 0.0}
    jobs = load_parameters(JobParameters, parameters_dir_copy)  # a file the overlay leaves
    assert jobs.location_constant == {}  # as in jobs.toml (the shipped overlay is replaced)
    assert jobs.expansion_share == load_parameters(JobParameters).expansion_share
    assert effective_value("housing_market.toml", "choice.beta_access", parameters_dir_copy) == 1.2
    assert effective_value("mode_choice.toml", "constant.pt", parameters_dir_copy) == -1.5
    assert effective_value("housing_market.toml", "choice.beta_access") == 1.0
    values = calibrated_values(parameters_dir_copy)
    assert values["housing_market.toml"] == {
        "prices.vacancy_response": 0.8,
        "choice.beta_access": 1.2,
    }
    assert values["mode_choice.toml"]["constant"]["car"] == -0.5


def test_a_dict_field_is_replaced_as_a_whole(parameters_dir_copy: Path):
    write_calibrated(
        parameters_dir_copy, '[values."commuting.toml"."mode_constant_min"]\ncar = 10\n'
    )
    params = load_parameters(CommutingParameters, parameters_dir_copy)
    assert params.mode_constant_min == {"car": 10.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[values."housing_markt.toml"]\n"choice.beta_access" = 1.2\n',
            r"""field 'values\."housing_markt\.toml"' is unknown; allowed: commuting\.toml""",
        ),
        (
            '[values."housing_market.toml"]\n"choice.beta_acess" = 1.2\n',
            r"""field 'values\."housing_market\.toml"\.choice\.beta_acess' is unknown; """
            r"allowed: access_decay_km, .*, beta_access, beta_cost_to_income, ",
        ),
        (
            '[values."housing_market.toml"]\n"choise.beta_access" = 1.2\n',
            r"""field 'values\."housing_market\.toml"\.choise' is unknown; allowed: choice""",
        ),
        ('[valuse."jobs.toml"]\nexpansion_share = 0.5\n', r"field 'valuse' is unknown"),
    ],
)
def test_an_overlay_naming_an_unknown_file_or_field_is_refused(
    parameters_dir_copy: Path, text: str, message: str
):
    write_calibrated(parameters_dir_copy, text)
    calibrated = str(parameters_dir_copy / CALIBRATED_FILE)
    with pytest.raises(ParameterError, match=message) as error:
        load_parameters(HousingMarketParameters, parameters_dir_copy)
    assert str(error.value).startswith(f"{calibrated}: ")


def test_an_overlay_value_out_of_range_or_of_the_wrong_type_is_refused(parameters_dir_copy: Path):
    write_calibrated(parameters_dir_copy, '[values."jobs.toml"]\nexpansion_share = 1.5\n')
    with pytest.raises(
        ParameterError, match=r"jobs\.toml: field 'expansion_share' is 1\.5; allowed: >= 0"
    ) as error:
        load_parameters(JobParameters, parameters_dir_copy)
    assert any(CALIBRATED_FILE in note for note in error.value.__notes__)
    write_calibrated(
        parameters_dir_copy, '[values."housing_market.toml"]\n"choice.beta_access" = "x"\n'
    )
    with pytest.raises(
        ParameterError, match=r"housing_market\.toml: field 'choice\.beta_access' is 'x'; allowed"
    ):
        load_parameters(HousingMarketParameters, parameters_dir_copy)


def test_effective_value_refuses_an_unknown_field():
    with pytest.raises(ParameterError, match=r"field 'choice\.beta_acess' is unknown"):
        effective_value("housing_market.toml", "choice.beta_acess")


def test_the_registry_lists_every_parameter_file():
    tomls = {path.name for path in PARAMETERS_DIR.glob("*.toml")} - OTHER_SHAPES
    tomls.discard(CALIBRATED_FILE)
    files = parameter_files()
    assert set(files) == tomls
    for file_name, cls in files.items():
        assert parameter_declaration(cls).file_name == file_name
        assert isinstance(load_parameters(cls), cls)
