"""Zones, the rail network and the travel-time skims of the transport sub-model."""

from __future__ import annotations

import numpy as np
import pytest

from model.bundle import load_bundle
from model.parameters import load_parameters
from model.region import region_codes
from model.transport.network import (
    build_rail_network,
    rail_route,
    station_times_min,
    with_edge_times,
)
from model.transport.skims import (
    TransportParameters,
    build_skims,
    build_zones,
    municipality_skims,
    plausibility_table,
    travel_time_min,
)
from model.world import build_world

RAIL_TOLERANCE = 0.25  # in-vehicle time within +-25 % of the published timetable time
CAR_TOLERANCE = 0.35  # off-peak car within +-35 % (published car times are rough)


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


@pytest.fixture(scope="module")
def params():
    return load_parameters(TransportParameters)


@pytest.fixture(scope="module")
def world(bundle):
    return build_world(bundle, region_codes(bundle))


@pytest.fixture(scope="module")
def world_all(bundle):
    return build_world(bundle, region_codes(bundle, "all"))


@pytest.fixture(scope="module")
def skims(world, bundle, params):
    return build_skims(world, bundle, params)


@pytest.fixture(scope="module")
def skims_all(world_all, bundle, params):
    return build_skims(world_all, bundle, params)


def test_zones_cover_every_cell_once_and_follow_the_5km_squares(world, skims):
    zones = skims.zones
    assert zones.cell_zone.shape == (world.n_cells,)
    assert set(np.unique(zones.cell_zone)) == set(range(zones.n_zones))
    assert np.array_equal(zones.grid_x[zones.cell_zone], world.cell_x // 5)
    assert np.array_equal(zones.grid_y[zones.cell_zone], world.cell_y // 5)
    assert np.isclose(zones.land_km2.sum(), world.cell_land_share.sum())


def test_zone_centroid_follows_cell_weights(world):
    plain = build_zones(world)
    heavy = np.ones(world.n_cells)
    heavy[0] = 1e6  # one cell takes its zone's centroid
    weighted = build_zones(world, cell_weights=heavy)
    zone = weighted.cell_zone[0]
    easting, _ = world.cell_centre_m()
    assert abs(weighted.easting_m[zone] - easting[0]) < 1.0
    assert np.array_equal(plain.municipality, weighted.municipality)  # by land, not weights


def test_skims_are_positive_float32_and_car_nearly_symmetric(skims):
    for mode in ("car", "car_offpeak", "pt", "bike", "walk"):
        matrix = skims.matrices[mode]
        assert matrix.dtype == np.float32
        assert not np.isnan(matrix).any()
        assert (matrix > 0).all(), mode  # zero-free, diagonal included
    car = skims.matrices["car"]
    assert np.isfinite(car).all() and np.isfinite(skims.matrices["pt"]).all()
    # only the inner-city parking search differs by direction
    assert np.abs(car - car.T).max() <= 6.0 + 1e-3
    assert np.allclose(skims.matrices["car_offpeak"], skims.matrices["car_offpeak"].T, atol=1e-3)


def test_car_time_grows_with_distance(skims):
    zones = skims.zones
    distance = np.hypot(
        zones.easting_m[:, None] - zones.easting_m[None, :],
        zones.northing_m[:, None] - zones.northing_m[None, :],
    )
    offpeak = skims.matrices["car_offpeak"]
    order = np.argsort(distance[0])
    assert (np.diff(offpeak[0, order]) >= -1e-3).all()
    assert offpeak[distance > 50_000].min() > offpeak[distance < 10_000].max()
    # peak is never faster than off-peak
    assert (skims.matrices["car"] >= offpeak - 1e-4).all()


def test_public_transport_is_the_faster_of_local_and_rail(skims):
    m = skims.matrices
    assert np.array_equal(m["pt"], np.minimum(m["pt_local"], m["pt_rail"]))
    zones, rail = skims.zones, skims.rail
    to_station = np.hypot(
        zones.easting_m[:, None] - rail.station_easting_m[None, :],
        zones.northing_m[:, None] - rail.station_northing_m[None, :],
    ).min(axis=1)
    apart = np.hypot(
        zones.easting_m[:, None] - zones.easting_m[None, :],
        zones.northing_m[:, None] - zones.northing_m[None, :],
    )
    near = to_station < 2000
    station_pairs = near[:, None] & near[None, :] & (apart > 20_000)
    # between station towns more than 20 km apart, rail usually beats the bus
    assert (m["pt_rail"] < m["pt_local"])[station_pairs].mean() > 0.5


def test_bike_and_walk_are_capped(skims):
    bike, walk = skims.matrices["bike"], skims.matrices["walk"]
    assert np.isinf(bike).any() and np.isfinite(np.diag(bike)).all()
    assert (walk[np.isfinite(walk)] < bike[np.isfinite(walk)] * 4).all()
    assert np.isinf(walk[np.isinf(bike)]).all()


def test_follobanen_gives_oslo_ski_in_eleven_minutes(bundle, params):
    route = rail_route(build_rail_network(bundle, params.rail), "Oslo S", "Ski")
    assert route.in_vehicle_min == pytest.approx(11.0)
    assert route.stations == ("Oslo S", "Ski")


@pytest.mark.parametrize("town", ["Drammen", "Ski", "Lillestrøm", "Hønefoss", "Moss", "Hamar"])
def test_six_pairs_match_published_times(skims_all, world_all, params, town):
    table = plausibility_table(skims_all, world_all, params).set_index("to")
    row = table.loc[town]
    assert abs(row["rail_in_vehicle_min"] / row["rail_published_min"] - 1) <= RAIL_TOLERANCE
    assert row["rail_with_wait_min"] >= row["rail_in_vehicle_min"]
    assert abs(row["car_offpeak_min"] / row["car_published_min"] - 1) <= CAR_TOLERANCE


def test_ringeriksbanen_override_shortens_honefoss(bundle, params):
    network = build_rail_network(bundle, params.rail)
    oslo, honefoss = network.station_index("Oslo S"), network.station_index("Hønefoss")
    before = station_times_min(network)[oslo, honefoss]
    project = with_edge_times(
        network,
        {("Sandvika", "Hønefoss"): 20.0},
        line="Ringeriksbanen",
        through_running_with=("Askerbanen", "Drammenbanen", "Bergensbanen"),
    )
    after = station_times_min(project)[oslo, honefoss]
    assert after < before - 30
    assert rail_route(project, "Oslo S", "Hønefoss").stations[-2:] == ("Sandvika", "Hønefoss")
    assert network.edge_min.shape[0] == project.edge_min.shape[0] - 1  # original untouched


def test_municipality_skims_are_weighted_means(skims, world):
    by_municipality = municipality_skims(skims, modes=("car", "bike"))
    car = by_municipality["car"]
    assert car.shape == (world.n_municipalities, world.n_municipalities)
    zone_car = skims.matrices["car"]
    assert zone_car.min() - 1e-3 <= car.min() and car.max() <= zone_car.max() + 1e-3
    oslo = world.codes.index("0301")
    assert car[oslo, oslo] < np.median(car[oslo])
    assert travel_time_min(skims, "car", 0, 1) == zone_car[0, 1]
    with pytest.raises(KeyError):
        travel_time_min(skims, "boat", 0, 1)
