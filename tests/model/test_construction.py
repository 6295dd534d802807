"""Zoning and construction: developers build where prices pay and capacity remains."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.population import DWELLING_TYPE_NAMES, NO_ROW
from agents.zoning import Zoning, cells_near_stations, initial_zoning, neighbourhood_mean
from model.construction import (
    Construction,
    ConstructionLevers,
    ConstructionParameters,
    weight_by_municipality,
)
from model.parameters import PARAMETERS_DIR, ParameterError, load_parameters
from model.region_model import RegionModel
from model.streams import random_stream

CALIBRATED = load_parameters(ConstructionParameters)
# The documented rules alone, without the calibration's municipal constants.
PARAMS = dataclasses.replace(
    CALIBRATED,
    zoning=dataclasses.replace(CALIBRATED.zoning, capacity_factor={}),
    developers=dataclasses.replace(CALIBRATED.developers, margin_shift={}),
)
NO_LEVER = ConstructionLevers()
REGIONAL_TOWNS = ("3301", "3205")  # Drammen, Lillestrøm


def copy_dwellings(dwellings):
    """A private copy of the (shared, read-only) fixture's dwelling table."""
    return dataclasses.replace(
        dwellings,
        **{f.name: np.copy(getattr(dwellings, f.name)) for f in dataclasses.fields(dwellings)},
    )


def copy_zoning(zoning: Zoning) -> Zoning:
    return Zoning(
        zoning.capacity_dwellings.copy(), zoning.built_up.copy(), zoning.planned_dwellings.copy()
    )


def oslo_prices(model, oslo=60_000.0, elsewhere=30_000.0):
    """Price per m2 of every dwelling: ``oslo`` in Oslo, ``elsewhere`` in the rest."""
    oslo_index = model.world.codes.index("0301")
    return np.where(model.dwellings.municipality == oslo_index, oslo, elsewhere)


def run(model, levers=NO_LEVER, prices=None, years=1, seed=1, params=PARAMS):
    """Build the zoning and run ``years`` construction steps on copies of the model's tables.

    Returns (dwellings, zoning before, zoning after, list of flows). New rows get the price of
    their municipality's dwellings so that later years see the same price level.
    """
    world = model.world
    stock = model.cell_counts()["dwellings"]
    zoning = initial_zoning(world, stock, params.zoning, levers)
    before = copy_zoning(zoning)
    dwellings = copy_dwellings(model.dwellings)
    price = oslo_prices(model) if prices is None else prices
    price_by_municipality = np.zeros(world.n_municipalities)
    price_by_municipality[dwellings.municipality] = price
    construction = Construction(params, levers, random_stream(seed, "construction"))
    weight = weight_by_municipality(dwellings, world.n_municipalities)
    flows = []
    for year in range(2024, 2024 + years):
        price = price_by_municipality[dwellings.municipality]
        flows.append(construction.step(year, world, dwellings, zoning, price, weight))
    return dwellings, before, zoning, flows


def built_per_cell(model, dwellings):
    """Real dwellings added to each cell (rows beyond the fixture's table)."""
    first_new = len(model.dwellings)
    return np.bincount(
        dwellings.cell[first_new:], dwellings.weight[first_new:], model.world.n_cells
    )


# --- zoning ----------------------------------------------------------------------------------


def test_a_municipal_capacity_factor_scales_only_its_own_cells(small_model):
    world = small_model.world
    stock = small_model.population.expected_dwellings_per_cell
    rule = dataclasses.replace(PARAMS.zoning, capacity_factor={})
    scaled = dataclasses.replace(PARAMS.zoning, capacity_factor={"3222": 2.5})
    base = initial_zoning(world, stock, rule, NO_LEVER).capacity_dwellings
    more = initial_zoning(world, stock, scaled, NO_LEVER).capacity_dwellings
    own = world.cell_municipality == world.codes.index("3222")
    assert np.allclose(more[own], 2.5 * base[own]) and base[own].sum() > 0
    assert np.array_equal(more[~own], base[~own])


def test_zoning_and_new_dwelling_types_are_the_same_at_every_scale():
    """They read the expected stock, not the sampled rows (a row at 1 % is 100 dwellings)."""
    small, large = RegionModel(seed=4, scale=0.01), RegionModel(seed=4, scale=0.05)
    a, b = small.zoning.capacity_dwellings, large.zoning.capacity_dwellings
    assert np.isclose(a, b, rtol=0.01).mean() > 0.99  # a few cells sit at the settled threshold
    assert a.sum() == pytest.approx(b.sum(), rel=0.005)
    types = [m.construction.new_dwelling_type(m.construction.density) for m in (small, large)]
    assert (types[0] == types[1]).mean() > 0.99


def test_default_zoning_follows_the_documented_rule(small_model):
    world = small_model.world
    stock = small_model.cell_counts()["dwellings"]
    z = dataclasses.replace(PARAMS.zoning, capacity_factor={})  # the rule alone
    zoning = initial_zoning(world, stock, z, NO_LEVER)
    settled = neighbourhood_mean(world, stock) >= z.settled_min_dwellings
    capacity = zoning.capacity_dwellings
    assert len(zoning) == world.n_cells
    assert np.array_equal(zoning.built_up, stock > 0)
    assert np.allclose(
        capacity[settled], z.densification_share * stock[settled] + z.densification_floor_dwellings
    )
    greenfield = ~settled & (capacity > 0)
    assert greenfield.sum() > 100
    assert np.allclose(
        capacity[greenfield], z.greenfield_dwellings_per_km2 * world.cell_land_share[greenfield]
    )
    # Greenfield only beside settled cells: every greenfield cell has a settled neighbour.
    grid = world.to_grid(settled.astype(np.int8), 0)
    x, y = world.cell_x[greenfield], world.cell_y[greenfield]
    padded = np.pad(grid, 1)
    neighbours = sum(
        padded[x + 1 + dx, y + 1 + dy] for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy
    )
    assert np.all(neighbours > 0)
    assert np.all(capacity >= 0)
    # Plausible size: a few hundred thousand dwellings, 15-40 % of today's stock.
    assert 0.15 * stock.sum() < capacity.sum() < 0.4 * stock.sum()


def test_station_densification_adds_capacity_only_near_stations(small_model):
    world = small_model.world
    stock = small_model.cell_counts()["dwellings"]
    base = initial_zoning(world, stock, PARAMS.zoning, NO_LEVER).capacity_dwellings
    levers = ConstructionLevers(
        station_densification_radius_km=1.0, station_densification_extra_dwellings_per_cell=400.0
    )
    dense = initial_zoning(world, stock, PARAMS.zoning, levers).capacity_dwellings
    near = cells_near_stations(world, 1.0)
    assert 100 < near.sum() < world.n_cells // 4
    assert np.allclose(dense[near] - base[near], 400.0 * world.cell_land_share[near])
    assert np.array_equal(dense[~near], base[~near])


def test_station_densification_can_be_limited_to_named_stations(small_model):
    world = small_model.world
    stock = small_model.cell_counts()["dwellings"]
    stations = small_model.bundle["rail_stations.csv"]
    oslo = tuple(stations.loc[stations["kommunenummer"] == "0301", "station_name"])
    near_oslo = cells_near_stations(world, 1.0, oslo)
    near_all = cells_near_stations(world, 1.0)
    assert 10 < near_oslo.sum() < near_all.sum()
    assert not (near_oslo & ~near_all).any()
    assert (world.cell_municipality[near_oslo] == world.codes.index("0301")).mean() > 0.8
    levers = ConstructionLevers(
        station_densification_radius_km=1.0,
        station_densification_extra_dwellings_per_cell=400.0,
        station_densification_stations=oslo,
    )
    base = initial_zoning(world, stock, PARAMS.zoning, NO_LEVER).capacity_dwellings
    dense = initial_zoning(world, stock, PARAMS.zoning, levers).capacity_dwellings
    assert np.array_equal(dense > base, near_oslo & (world.cell_land_share > 0))
    with pytest.raises(ValueError, match="station 'Gotham' is unknown"):
        cells_near_stations(world, 1.0, ("Gotham",))


def test_multi_core_puts_the_share_of_capacity_in_the_town_centres(small_model):
    world = small_model.world
    stock = small_model.cell_counts()["dwellings"]
    levers = ConstructionLevers(multi_core_towns=REGIONAL_TOWNS, multi_core_share=0.3)
    base = initial_zoning(world, stock, PARAMS.zoning, NO_LEVER).capacity_dwellings
    steered = initial_zoning(world, stock, PARAMS.zoning, levers).capacity_dwellings
    easting, northing = world.cell_centre_m()
    m = world.cell_municipality
    d_km = np.hypot(easting - world.centre_easting_m[m], northing - world.centre_northing_m[m])
    towns = np.isin(m, [world.codes.index(code) for code in REGIONAL_TOWNS])
    centre = towns & (d_km / 1000 <= PARAMS.zoning.multi_core_centre_radius_km)
    assert steered[centre].sum() / steered.sum() == pytest.approx(0.3)
    assert np.array_equal(steered[~centre], base[~centre])
    with pytest.raises(ValueError, match="9999"):
        initial_zoning(
            world,
            stock,
            PARAMS.zoning,
            ConstructionLevers(multi_core_towns=("9999",), multi_core_share=0.3),
        )


# --- construction ----------------------------------------------------------------------------


def test_construction_happens_only_where_price_exceeds_cost_and_capacity_remains(small_model):
    world = small_model.world
    dwellings, before, after, (flows,) = run(small_model)
    built = built_per_cell(small_model, dwellings)
    oslo = world.codes.index("0301")
    assert flows.dwellings_built.sum() > 1000
    # 30 000 NOK/m2 (x 1.2 for a new dwelling) does not cover any type's cost; 60 000 does.
    assert flows.dwellings_built[oslo] == flows.dwellings_built.sum()
    assert np.all(world.cell_municipality[built > 0] == oslo)
    assert np.all(before.capacity_dwellings[built > 0] > 0)
    # The rule itself: every cell that built had a positive margin for the type it built.
    first_new = len(small_model.dwellings)
    cost = PARAMS.cost_nok_per_m2.by_type()[dwellings.dwelling_type[first_new:]]
    factor = PARAMS.developers.new_build_price_factor
    assert np.all(factor * 60_000.0 > cost)
    # Accounting: flows, appended rows and capacity used agree.
    assert np.isclose(built.sum(), flows.dwellings_built.sum())
    assert np.allclose(before.capacity_dwellings - after.capacity_dwellings, built)


def test_a_municipal_margin_shift_lets_it_build_below_the_regional_cost(small_model):
    cost = PARAMS.cost_nok_per_m2.by_type()
    factor = PARAMS.developers.new_build_price_factor
    below = np.full(len(small_model.dwellings), 0.9 * cost.min() / factor)
    shifted = dataclasses.replace(
        PARAMS, developers=dataclasses.replace(PARAMS.developers, margin_shift={"3205": 0.5})
    )
    _, _, _, (flows,) = run(small_model, prices=below, params=shifted)
    lillestrom = small_model.world.codes.index("3205")
    assert flows.dwellings_built[lillestrom] > 0
    assert flows.dwellings_built.sum() == flows.dwellings_built[lillestrom]


def test_nothing_is_built_below_cost_and_everywhere_zoned_above_it(small_model):
    cost = PARAMS.cost_nok_per_m2.by_type()
    factor = PARAMS.developers.new_build_price_factor
    below = np.full(len(small_model.dwellings), 0.99 * cost.min() / factor)
    _, _, _, (flows,) = run(small_model, prices=below)
    assert flows.dwellings_built.sum() == 0
    above = np.full(len(small_model.dwellings), 2.0 * cost.max() / factor)
    _, before, _, (flows,) = run(small_model, prices=above)
    zoned = np.bincount(
        small_model.world.cell_municipality,
        before.capacity_dwellings,
        small_model.world.n_municipalities,
    )
    # Full pace everywhere: build_share_per_year of the capacity, up to the rounding to rows.
    expected = PARAMS.developers.build_share_per_year * zoned.sum()
    assert flows.dwellings_built.sum() == pytest.approx(expected, rel=0.05)
    assert np.all(flows.dwellings_built[zoned > 2000] > 0)


def test_new_dwellings_are_vacant_weighted_rows_of_the_cell_density_type(small_model):
    world = small_model.world
    dwellings, _, _, _ = run(small_model, prices=oslo_prices(small_model, 70_000.0, 60_000.0))
    first_new = len(small_model.dwellings)
    new = slice(first_new, None)
    assert len(dwellings) > first_new
    assert all(
        len(getattr(dwellings, f.name)) == len(dwellings) for f in dataclasses.fields(dwellings)
    )
    assert np.all(dwellings.household[new] == NO_ROW)
    assert np.array_equal(dwellings.municipality[new], world.cell_municipality[dwellings.cell[new]])
    weight = weight_by_municipality(small_model.dwellings, world.n_municipalities)
    assert np.allclose(dwellings.weight[new], weight[dwellings.municipality[new]])
    stock = small_model.cell_counts()["dwellings"][dwellings.cell[new]]
    new_type = dwellings.dwelling_type[new]
    apartment = DWELLING_TYPE_NAMES.index("apartment_block")
    detached = DWELLING_TYPE_NAMES.index("detached")
    assert np.all(
        (new_type == apartment) == (stock >= PARAMS.developers.apartment_block_min_dwellings)
    )
    assert np.all((new_type == detached) == (stock < PARAMS.developers.row_terraced_min_dwellings))
    if hasattr(dwellings, "floor_area_m2"):
        assert np.all(dwellings.floor_area_m2[new] > 20)


def test_capacity_never_negative_and_exceeded_by_less_than_one_row(small_model):
    """A cell with less than one row of capacity left may build one row (stochastic
    rounding keeps the total right at small scales), never more."""
    eager = dataclasses.replace(
        PARAMS,
        developers=dataclasses.replace(
            PARAMS.developers, build_share_per_year=1.0, full_pace_margin=0.01
        ),
    )
    prices = oslo_prices(small_model, 90_000.0, 80_000.0)
    dwellings, before, after, flows = run(small_model, prices=prices, years=4, params=eager)
    built = built_per_cell(small_model, dwellings)
    assert np.all(after.capacity_dwellings >= 0)
    one_row = dwellings.weight.max()
    assert np.all(built <= before.capacity_dwellings + one_row + 1e-9)
    assert built.sum() > 0.5 * before.capacity_dwellings.sum()
    assert np.isclose(built.sum(), sum(f.dwellings_built.sum() for f in flows))


def test_station_densification_raises_construction_near_stations_only(small_model):
    world = small_model.world
    prices = oslo_prices(small_model, 70_000.0, 55_000.0)
    levers = ConstructionLevers(
        station_densification_radius_km=1.0, station_densification_extra_dwellings_per_cell=400.0
    )
    base, _, _, _ = run(small_model, prices=prices)
    dense, _, _, _ = run(small_model, levers=levers, prices=prices)
    built_base = built_per_cell(small_model, base)
    built_dense = built_per_cell(small_model, dense)
    near = cells_near_stations(world, 1.0)
    assert built_dense[near].sum() > 1.2 * built_base[near].sum()
    assert np.array_equal(built_dense[~near], built_base[~near])


def test_area_neutrality_zero_builds_nothing_on_new_land(small_model):
    prices = oslo_prices(small_model, 70_000.0, 60_000.0)
    stock = small_model.cell_counts()["dwellings"]
    free, _, _, free_flows = run(small_model, prices=prices, years=2)
    new_land = built_per_cell(small_model, free) * (stock == 0)
    assert new_land.sum() > 0, "without the cap some dwellings go to cells that had none"
    assert sum(f.cells_newly_built_up.sum() for f in free_flows) > 0

    levers = ConstructionLevers(area_neutrality_max_new_cells_per_year=0)
    capped, _, zoning, flows = run(small_model, levers=levers, prices=prices, years=2)
    built = built_per_cell(small_model, capped)
    assert built.sum() > 0
    assert np.all(built[stock == 0] == 0)
    assert all(f.cells_newly_built_up.sum() == 0 for f in flows)
    assert np.array_equal(zoning.built_up, stock > 0)

    levers = ConstructionLevers(area_neutrality_max_new_cells_per_year=3)
    _, _, _, flows = run(small_model, levers=levers, prices=prices, years=2)
    assert all(f.cells_newly_built_up.sum() <= 3 for f in flows)


def test_multi_core_raises_the_towns_share_of_construction(small_model):
    world = small_model.world
    prices = oslo_prices(small_model, 70_000.0, 60_000.0)
    towns = [world.codes.index(code) for code in REGIONAL_TOWNS]
    levers = ConstructionLevers(multi_core_towns=REGIONAL_TOWNS, multi_core_share=0.3)
    _, _, _, (base,) = run(small_model, prices=prices)
    _, _, _, (steered,) = run(small_model, levers=levers, prices=prices)
    share_base = base.dwellings_built[towns].sum() / base.dwellings_built.sum()
    share_steered = steered.dwellings_built[towns].sum() / steered.dwellings_built.sum()
    assert share_steered > share_base + 0.1


def test_same_seed_same_result(small_model):
    one, _, zone_one, flows_one = run(small_model, years=2, seed=5)
    two, _, zone_two, flows_two = run(small_model, years=2, seed=5)
    for field in dataclasses.fields(one):
        assert np.array_equal(getattr(one, field.name), getattr(two, field.name))
    assert np.array_equal(zone_one.capacity_dwellings, zone_two.capacity_dwellings)
    for a, b in zip(flows_one, flows_two, strict=True):
        assert np.array_equal(a.dwellings_built, b.dwellings_built)
    other, _, _, _ = run(small_model, years=2, seed=6)
    assert not np.array_equal(built_per_cell(small_model, one), built_per_cell(small_model, other))


def test_totals_are_in_full_population_units_at_any_scale(small_model, full_model):
    def region_total(model):
        prices = oslo_prices(model, 70_000.0, 55_000.0)
        _, _, _, (flows,) = run(model, prices=prices)
        return flows.dwellings_built.sum()

    small, full = region_total(small_model), region_total(full_model)
    assert full > 5000
    assert small == pytest.approx(full, rel=0.1)


# --- parameters and levers -------------------------------------------------------------------


def test_default_levers_are_off():
    assert NO_LEVER.station_densification_radius_km is None
    assert NO_LEVER.multi_core_towns == ()
    assert NO_LEVER.area_neutrality_max_new_cells_per_year is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"station_densification_radius_km": 0.0},
        {"station_densification_extra_dwellings_per_cell": -1.0},
        {"multi_core_share": 1.0},
        {"area_neutrality_max_new_cells_per_year": -1},
    ],
)
def test_impossible_levers_are_refused(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        ConstructionLevers(**kwargs)


@pytest.fixture()
def parameters_copy(tmp_path: Path) -> Path:
    shutil.copy(PARAMETERS_DIR / "construction.toml", tmp_path / "construction.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("build_share_per_year = 0.055", "build_share_per_year = 1.5", "build_share_per_year"),
        ("full_pace_margin = 0.25", "", "developers.full_pace_margin' missing"),
        ("detached = 40000.0", 'detached = "dear"', "cost_nok_per_m2.detached"),
        ("detached = 40000.0", "detached = 0.0", "cost_nok_per_m2.detached"),
        ("[zoning]", "[zoning]\nsurprise = 1", "zoning.surprise"),
    ],
)
def test_bad_parameter_file_names_file_and_field(parameters_copy, old, new, field):
    path = parameters_copy / "construction.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ParameterError, match="construction.toml") as error:
        load_parameters(ConstructionParameters, parameters_copy)
    assert field in str(error.value)


def test_missing_parameter_file_is_named(tmp_path):
    with pytest.raises(ParameterError, match="construction.toml: parameter file missing"):
        load_parameters(ConstructionParameters, tmp_path)
