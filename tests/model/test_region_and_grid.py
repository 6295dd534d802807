"""The region selection and the 1 km grid."""

from __future__ import annotations

import numpy as np
import pytest

from model.bundle import load_bundle
from model.region import RegionError, region_codes
from model.world import build_world


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


def test_default_region_is_the_64_members_plus_tonsberg(bundle):
    codes = region_codes(bundle)
    membership = bundle["osloregionen_membership.csv"].set_index("kommunenummer")
    assert len(codes) == 65
    assert "3905" in codes and "0301" in codes
    assert (membership.loc[codes, "confidence"] != "uncertain").all()
    assert set(membership.index[membership["confidence"] == "uncertain"]).isdisjoint(codes)


def test_default_region_population_matches_the_membership_fee(bundle):
    """NOK 6.987 M at NOK 3.00 per inhabitant is about 2.329 M inhabitants."""
    municipalities = bundle["municipalities.csv"].set_index("kommunenummer")
    population = municipalities.loc[region_codes(bundle), "population"].sum()
    assert population == 2_328_796
    assert abs(population * 3.00 / 6.987e6 - 1) < 0.001


def test_region_all_is_the_104_municipalities_of_the_six_counties(bundle):
    codes = region_codes(bundle, "all")
    assert len(codes) == 104
    assert {code[:2] for code in codes} == {"03", "31", "32", "33", "34", "39"}


def test_unknown_region_is_refused_with_what_is_allowed(bundle):
    with pytest.raises(RegionError, match="osloregionen, all"):
        region_codes(bundle, "norway")
    with pytest.raises(RegionError, match="9999"):
        region_codes(bundle, ["0301", "9999"])


def test_every_cell_belongs_to_exactly_one_municipality(bundle):
    cells = bundle["grid_cells_1km.csv"]
    assert not cells.duplicated(["easting_m", "northing_m"]).any()
    assert (cells["easting_m"] % 1000 == 0).all() and (cells["northing_m"] % 1000 == 0).all()
    assert set(cells["kommunenummer"]) == set(bundle["municipalities.csv"]["kommunenummer"])


def test_cell_count_matches_area_within_5_percent(bundle):
    counts = bundle["grid_cells_1km.csv"]["kommunenummer"].value_counts()
    area = bundle["municipalities.csv"].set_index("kommunenummer")["area_km2"]
    deviation = (counts.reindex(area.index) / area - 1).abs()
    assert deviation.max() < 0.05, deviation.sort_values().tail()


def test_world_cells_fit_the_grid_and_keep_their_municipality(bundle):
    codes = region_codes(bundle)
    world = build_world(bundle, codes)
    assert world.n_municipalities == 65
    assert world.cell_x.min() == 0 and world.cell_y.min() == 0
    assert world.cell_x.max() == world.width - 1 and world.cell_y.max() == world.height - 1
    flat = world.cell_x.astype(np.int64) * world.height + world.cell_y
    assert len(np.unique(flat)) == world.n_cells
    cells = bundle["grid_cells_1km.csv"]
    assert world.n_cells == int(cells["kommunenummer"].isin(codes).sum())


def test_admin_centres_lie_near_their_own_municipality(bundle):
    """Each centre is within 2 km of a land cell of its own municipality."""
    world = build_world(bundle, region_codes(bundle, "all"))
    easting, northing = world.cell_centre_m()
    for m in range(world.n_municipalities):
        cells = world.cells_of(m)
        distance = np.hypot(
            easting[cells] - world.centre_easting_m[m], northing[cells] - world.centre_northing_m[m]
        )
        assert distance.min() < 2000, world.codes[m]


def test_model_grid_exposes_property_layers(small_model):
    grid = small_model.grid
    world = small_model.world
    assert grid.dimensions == (world.width, world.height)
    municipality = small_model.layer("municipality")
    assert (municipality >= 0).sum() == world.n_cells
    population = small_model.layer("population")
    assert population.sum() == pytest.approx(2_328_796)
    assert population[municipality < 0].sum() == 0
    for name in ("households", "dwellings", "jobs"):
        assert small_model.layer(name).sum() > 0
    oslo_cell = next(iter(grid.all_cells))  # cells read the layers through Mesa's accessors
    assert hasattr(oslo_cell, "population")


def test_region_all_builds_and_reproduces_the_six_counties():
    from model.region_model import RegionModel

    model = RegionModel(seed=1, scale=0.01, region="all")
    table = model.indicator_table()
    region_total = table.query("kommunenummer == 'region' and indicator == 'population'")
    assert len(model.municipalities) == 104
    assert region_total["value"].iloc[0] == pytest.approx(2_661_220)
    model.step()
    model.check_invariants()
