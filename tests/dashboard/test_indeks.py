"""The Indeks of an area: sub-regions and recomputed shares agree with the stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import backend, figures, indeks
from scenarios.runner import RunRequest, run_scenario


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small stored baseline run (1 % of households, 2024-2027)."""
    runs_dir = tmp_path_factory.mktemp("indeks_runs")
    run = run_scenario(RunRequest(scale=0.01, end=2027, seed=3), runs_dir)
    return backend.run_frame(run), backend.run_table(run, "emissions")


def chart(charts: list[indeks.Panel], title: str) -> indeks.Panel:
    return next(c for c in charts if c.title == title)


def test_every_municipality_is_in_a_subregion_and_subregions_add_up(stored):
    frame, emissions = stored
    codes = indeks.area_codes(indeks.REGION, frame)
    assert len(codes) == 65
    members = {code for group in indeks.subregions().values() for code in group}
    assert set(codes) <= members
    for name, group in indeks.subregions().items():
        area = indeks.SUBREGION_PREFIX + name
        charts = indeks.panels(frame, emissions, area)
        if not indeks.area_codes(area, frame):
            assert charts == []
            continue
        population = chart(charts, "population").lines["model"]
        expected = frame["population"][[c for c in group if c in codes]].sum(axis=1)
        pd.testing.assert_series_equal(population, expected, check_names=False)


def test_the_region_recomputed_from_municipalities_matches_the_stored_region(stored):
    frame, emissions = stored
    charts = indeks.panels(frame, emissions, indeks.REGION)
    region = frame.xs("region", axis=1, level="kommunenummer")
    population = chart(charts, "population").lines["model"]
    assert np.allclose(population, region["population"])  # nobody lost or duplicated
    car_index = chart(charts, "car_index").lines["model"]
    assert np.allclose(car_index, 100 * region["car_vehicle_km_index"])
    assert chart(charts, "car_index").target == 100.0
    sectors = chart(charts, "emissions").lines
    assert np.allclose(sum(sectors.values()) * 1000, region["co2e_total_tonnes"], rtol=1e-9)


def test_mode_shares_add_to_100_and_the_share_of_norway_uses_ssb(stored):
    frame, emissions = stored
    for area in (indeks.REGION, "0301", indeks.SUBREGION_PREFIX + "Follo"):
        shares = chart(indeks.panels(frame, emissions, area), "mode_shares").lines
        assert np.allclose(sum(shares.values()), 100.0)
    share = chart(indeks.panels(frame, emissions, indeks.REGION), "share_of_norway")
    assert share.lines["model"].loc[2024] == pytest.approx(100 * 2_328_796 / 5_550_203)
    norway = indeks.norway_population(pd.Index([2024, 2037, 2050]))
    assert norway.loc[2024] == pytest.approx(5_550_203)
    assert norway.loc[2050] == pytest.approx(6_114_899)
    assert 5_550_203 < norway.loc[2037] < 6_114_899


def test_a_municipality_shows_its_own_commuting_and_share_of_growth(stored):
    frame, emissions = stored
    charts = indeks.panels(frame, emissions, "0301")
    commuting = chart(charts, "commuting").lines
    assert set(commuting) == {"in_commuters", "out_commuters"}
    assert np.allclose(commuting["in_commuters"], frame[("in_commuters", "0301")])
    assert indeks.panels(frame, emissions, "9999") == []  # not in the run: nothing shown


def test_the_cell_map_leaves_cells_without_a_value_blank():
    index = pd.MultiIndex.from_tuples(
        [(250_000, 6_640_000), (252_000, 6_641_000)], names=["easting_m", "northing_m"]
    )
    figure = figures.cell_map(pd.Series([10.0, 1000.0], index=index), "t", "persons", log=True)
    z = figure.data[0].z
    assert len(z) == 2 and len(z[0]) == 3  # 2 km north-south, 3 km east-west
    assert sum(value is not None for row in z for value in row) == 2
    assert z[0][0] == pytest.approx(1.0) and z[1][2] == pytest.approx(3.0)  # log10
