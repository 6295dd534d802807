"""The catalogue names real fields; the calibrated file is what every run reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration.calibrated import CALIBRATED_PATH, data_hash, write_calibrated
from calibration.catalogue import CATALOGUE_FILE, CatalogueError, read_catalogue
from model.parameters import (
    CALIBRATED_FILE,
    HousingMarketParameters,
    calibrated_values,
    effective_value,
    load_parameters,
)
from model.region_model import RegionModel


def test_every_catalogue_entry_names_a_field_with_its_value_inside_the_prior():
    catalogue = read_catalogue()
    roles = {parameter.role for parameter in catalogue}
    assert roles == {"fitted", "solved", "assumption"}
    for parameter in catalogue:
        value = effective_value(parameter.file, parameter.field)
        if parameter.role == "solved":
            assert isinstance(value, dict) and parameter.target
            assert all(parameter.prior[0] <= v <= parameter.prior[1] for v in value.values())
        else:
            assert parameter.prior[0] <= float(value) <= parameter.prior[1], parameter.name


def test_a_catalogue_entry_with_a_misspelt_field_is_refused(tmp_path: Path):
    text = CATALOGUE_FILE.read_text(encoding="utf-8").replace(
        'field = "prices.vacancy_response"', 'field = "prices.vacancy_respons"', 1
    )
    broken = tmp_path / "catalogue.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="vacancy_respons"):
        read_catalogue(broken)


def test_the_shipped_calibration_is_fitted_to_the_shipped_data():
    fit = calibrated_fit()
    for key in ("date", "code", "data_sha256", "optimiser", "objective_before", "seconds"):
        assert key in fit
    assert fit["data_sha256"] == data_hash(), "the data changed since the fit: recalibrate"
    assert fit["objective_after"] < fit["objective_before"]


def calibrated_fit() -> dict:
    from model.parameters import calibration_metadata

    fit = calibration_metadata()
    assert fit, f"{CALIBRATED_PATH} missing: run `osloregion calibrate`"
    return fit


def test_the_baseline_reads_the_calibrated_file(parameters_dir_copy: Path):
    values = calibrated_values()
    constants = values["housing_market.toml"]["choice.municipality_constant"]
    shipped = load_parameters(HousingMarketParameters)
    assert shipped.choice.municipality_constant == pytest.approx(constants)
    model = RegionModel(seed=1, scale=0.01)
    oslo = model.world.codes.index("0301")
    assert model.housing_market.location_constant[oslo] == pytest.approx(constants["0301"])

    (parameters_dir_copy / CALIBRATED_FILE).unlink()
    bare = RegionModel(seed=1, scale=0.01, parameters_dir=parameters_dir_copy)
    assert np.all(bare.housing_market.location_constant == 0.0)


def test_writing_the_calibrated_file_is_atomic(tmp_path: Path):
    path = tmp_path / CALIBRATED_FILE
    write_calibrated({"jobs.toml": {"expansion_share": 0.6}}, {"date": "20261203"}, path)
    before = path.read_text(encoding="utf-8")
    with pytest.raises(TypeError):
        write_calibrated({"jobs.toml": {"expansion_share": object()}}, {"date": "x"}, path)
    assert path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [CALIBRATED_FILE]
