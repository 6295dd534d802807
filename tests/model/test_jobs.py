"""Job growth by sector and the location of new establishments (model/jobs.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents.population import NO_ROW, Firms
from model import jobs
from model.bundle import load_bundle
from model.parameters import PARAMETERS_DIR, ParameterError, SynthesisParameters, load_parameters
from model.region import region_codes
from model.streams import random_stream
from model.synthesis import synthesize
from model.synthesis.firms import load_job_sectors
from model.world import build_world, window_sum

SIZE_CLASSES = pd.read_csv(PARAMETERS_DIR / "establishment_size_classes.csv")
PARAMS = load_parameters(jobs.JobParameters)


@dataclass(frozen=True)
class GridWorld:
    """A width x height block of land cells; municipality 0 west of the middle, 1 east."""

    codes: tuple[str, ...]
    width: int
    height: int
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_municipality: np.ndarray


def grid_world(width: int = 12, height: int = 12) -> GridWorld:
    x, y = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    x, y = x.ravel(), y.ravel()
    return GridWorld(("0001", "0002"), width, height, x, y, (x >= width // 2).astype(np.int16))


def cell_at(world: GridWorld, x: int, y: int) -> int:
    return int(np.flatnonzero((world.cell_x == x) & (world.cell_y == y))[0])


def random_firms(world: GridWorld, n_sectors: int, n_firms: int, seed: int = 0) -> Firms:
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, len(world.cell_x), n_firms).astype(np.int32)
    return Firms(
        municipality=world.cell_municipality[cell].astype(np.int16),
        cell=cell,
        jobs=rng.integers(1, 40, n_firms).astype(np.int32),
        sector=(np.arange(n_firms) % n_sectors).astype(np.int8),
    )


def copy_firms(firms: Firms) -> Firms:
    return Firms(
        firms.municipality.copy(), firms.cell.copy(), firms.jobs.copy(), firms.sector.copy()
    )


def run_step(firms, targets, world, access, allowed, seed=3, params=PARAMS):
    return jobs.step(
        firms,
        targets,
        access,
        allowed,
        world,
        SIZE_CLASSES,
        np.random.default_rng(seed),
        params,
    )


def test_sector_targets_add_up_and_faster_sectors_gain_share():
    current = np.array([1000, 2000, 3000, 0])
    trend = np.array([1.05, 1.0, 0.97, 1.2])
    targets = jobs.sector_targets(current, 6180, trend)
    assert targets.sum() == 6180
    assert targets[3] == 0  # a sector without jobs stays without
    share_before, share_after = current[:3] / 6000, targets[:3] / 6180
    assert share_after[0] > share_before[0] and share_after[2] < share_before[2]
    # each sector's growth relative to the total is its trend over the mean trend
    mean_trend = (current * trend).sum() / current.sum()
    relative = (targets[:3] / current[:3]) / (6180 / 6000)
    assert relative == pytest.approx(trend[:3] / mean_trend, abs=1e-3)


def test_step_meets_every_sector_target_exactly_and_keeps_firms_valid():
    world = grid_world()
    firms = random_firms(world, 4, 400)
    before = jobs.jobs_by_sector(firms, 4)
    targets = before + np.array([900, -700, 0, 5])
    allowed = world.cell_x < 9
    no_turnover = replace(PARAMS, turnover_per_year=0.0)
    flows = run_step(firms, targets, world, np.ones(len(world.cell_x)), allowed, params=no_turnover)
    assert np.array_equal(jobs.jobs_by_sector(firms, 4), targets)
    assert (firms.jobs >= 1).all()
    assert np.array_equal(firms.municipality, world.cell_municipality[firms.cell])
    new = slice(len(firms) - flows.firms_opened.sum(), None)
    assert flows.firms_opened.sum() > 0 and allowed[firms.cell[new]].all()
    assert flows.jobs_created.sum() - flows.jobs_lost.sum() == targets.sum() - before.sum()
    assert flows.jobs_created.sum() == 905 and flows.jobs_lost.sum() == 700


def test_new_row_of_firm_points_at_the_same_establishment():
    world = grid_world()
    firms = random_firms(world, 2, 300)
    old = copy_firms(firms)
    targets = jobs.jobs_by_sector(firms, 2) + np.array([-2000, 300])
    flows = run_step(firms, targets, world, np.ones(len(world.cell_x)), np.ones(144, bool))
    kept = flows.new_row_of_firm != NO_ROW
    rows = flows.new_row_of_firm[kept]
    assert np.array_equal(firms.cell[rows], old.cell[kept])
    assert np.array_equal(firms.sector[rows], old.sector[kept])
    assert (~kept).sum() == flows.firms_closed.sum()


def test_step_is_deterministic_for_a_seed_and_varies_with_it():
    world = grid_world()
    access = np.linspace(1.0, 5.0, len(world.cell_x))
    results = []
    for seed in (7, 7, 8):
        firms = random_firms(world, 3, 200)
        targets = jobs.jobs_by_sector(firms, 3) + np.array([400, -300, 50])
        run_step(firms, targets, world, access, np.ones(144, bool), seed=seed)
        results.append((firms.cell.copy(), firms.jobs.copy(), firms.sector.copy()))
    assert all(np.array_equal(a, b) for a, b in zip(results[0], results[1], strict=True))
    assert not all(
        len(a) == len(b) and np.array_equal(a, b)
        for a, b in zip(results[0], results[2], strict=True)
    )


def test_turnover_destroys_and_recreates_jobs_beyond_the_net_change():
    world = grid_world()
    firms = random_firms(world, 2, 400)
    before = jobs.jobs_by_sector(firms, 2)
    targets = before + np.array([0, 50])
    params = replace(PARAMS, turnover_per_year=0.1)
    flows = run_step(
        firms, targets, world, np.ones(len(world.cell_x)), np.ones(144, bool), params=params
    )
    assert np.array_equal(jobs.jobs_by_sector(firms, 2), targets)
    turnover = np.round(0.1 * before).sum()
    assert flows.jobs_lost.sum() == turnover
    assert flows.jobs_created.sum() == turnover + 50
    assert flows.firms_opened.sum() > 0 and (firms.jobs >= 1).all()


def test_declining_sector_loses_jobs_and_closes_small_firms():
    world = grid_world()
    firms = random_firms(world, 2, 400)
    firms.jobs[firms.sector == 0] = 1  # 200 one-job establishments
    before = jobs.jobs_by_sector(firms, 2)
    targets = before - np.array([80, 0])
    no_turnover = replace(PARAMS, turnover_per_year=0.0)
    flows = run_step(
        firms, targets, world, np.ones(len(world.cell_x)), np.ones(144, bool), params=no_turnover
    )
    assert jobs.jobs_by_sector(firms, 2)[0] == 120
    assert (firms.sector == 0).sum() == 120  # every lost job closed a one-job firm
    assert flows.firms_closed.sum() == 80 and flows.jobs_lost.sum() == 80
    assert flows.firms_opened.sum() == 0


def new_establishments_in(cells: list[int], access: np.ndarray, jobs_per_cell_firms: Firms):
    """Grow an empty sector by 40 000 jobs, all in new establishments; count them per cell."""
    world = grid_world()
    allowed = np.zeros(len(world.cell_x), bool)
    allowed[cells] = True
    firms = jobs_per_cell_firms
    targets = jobs.jobs_by_sector(firms, 2) + np.array([0, 40_000])
    params = replace(PARAMS, expansion_share=0.0, max_new_jobs_per_cell=1e9)
    n_before = len(firms)
    run_step(firms, targets, world, access, allowed, seed=11, params=params)
    return [int((firms.cell[n_before:] == cell).sum()) for cell in cells]


def test_higher_labour_access_attracts_more_new_establishments():
    world = grid_world()
    low, high = cell_at(world, 2, 2), cell_at(world, 9, 9)  # both with empty neighbourhoods
    access = np.ones(len(world.cell_x))
    access[high] = 2.0
    anchor = Firms(  # one job far from both, so the table is not empty
        np.array([0], np.int16),
        np.array([cell_at(world, 2, 9)], np.int32),
        np.array([1], np.int32),
        np.array([0], np.int8),
    )
    n_low, n_high = new_establishments_in([low, high], access, anchor)
    assert n_low + n_high > 1000
    assert n_high > 1.2 * n_low
    # odds 2^a : 1 (binomial sd of the share about 0.01)
    odds = 2.0**PARAMS.labour_access_weight
    assert n_high / (n_low + n_high) == pytest.approx(odds / (1 + odds), abs=0.04)


def test_jobs_nearby_attract_more_new_establishments():
    world = grid_world()
    lonely, clustered = cell_at(world, 2, 2), cell_at(world, 9, 9)
    neighbour = cell_at(world, 9, 10)  # next to `clustered`, not allowed itself
    firms = Firms(
        np.array([1], np.int16),
        np.array([neighbour], np.int32),
        np.array([500], np.int32),
        np.array([0], np.int8),
    )
    n_lonely, n_clustered = new_establishments_in(
        [lonely, clustered], np.ones(len(world.cell_x)), firms
    )
    assert n_lonely + n_clustered > 1000
    assert n_clustered > 10 * n_lonely
    odds = 501.0**PARAMS.agglomeration_weight  # 42 at b = 0.6
    assert n_clustered / (n_lonely + n_clustered) == pytest.approx(odds / (1 + odds), abs=0.02)


def test_cell_cap_spreads_new_jobs():
    world = grid_world()
    firms = random_firms(world, 1, 50)
    access = np.ones(len(world.cell_x))
    access[0] = 1e6  # one cell would take nearly everything without the cap
    targets = jobs.jobs_by_sector(firms, 1) + 20_000
    params = replace(PARAMS, expansion_share=0.0, max_new_jobs_per_cell=1000.0)
    n_before = len(firms)
    run_step(firms, targets, world, access, np.ones(144, bool), params=params)
    new_jobs = np.bincount(firms.cell[n_before:], firms.jobs[n_before:], len(world.cell_x))
    assert new_jobs.max() < 1000 + 2000  # the cap plus at most one (largest) establishment
    assert (new_jobs > 0).sum() >= 8


def test_no_allowed_cell_is_refused():
    world = grid_world()
    firms = random_firms(world, 1, 10)
    targets = jobs.jobs_by_sector(firms, 1) + 100
    with pytest.raises(ValueError, match="no allowed land cell"):
        run_step(firms, targets, world, np.ones(144), np.zeros(144, bool))


def test_job_parameters_refuse_out_of_range(tmp_path: Path):
    text = (PARAMETERS_DIR / "jobs.toml").read_text(encoding="utf-8")
    (tmp_path / "jobs.toml").write_text(
        text.replace("expansion_share = 0.7", "expansion_share = 1.5"), encoding="utf-8"
    )
    with pytest.raises(ParameterError, match="expansion_share"):
        load_parameters(jobs.JobParameters, tmp_path)


def test_sector_table_is_the_national_employment_by_industry():
    sectors = load_job_sectors()
    # NAV/SSB totals (all ages) less the unknown industry (Uoppgitt: 2 248 and 1 897)
    assert sectors.employed_2022.sum() == 2_792_260 - 2_248
    assert sectors.employed_2023.sum() == 2_846_070 - 1_897
    assert sectors.share.sum() == pytest.approx(1.0)
    trend = dict(zip(sectors.codes, sectors.relative_trend, strict=True))
    assert trend["information_communication"] > 1.0 > trend["public_administration"]


@pytest.fixture(scope="module")
def synthesized():
    """The default region's base-year firms (always in full) and its world."""
    bundle = load_bundle()
    world = build_world(bundle, region_codes(bundle, "osloregionen"))
    population = synthesize(
        bundle,
        world,
        0.02,
        load_parameters(SynthesisParameters),
        lambda name: random_stream(1, name),
        SIZE_CLASSES,
    )
    return population, world


def test_base_year_sector_mix_matches_national_shares(synthesized):
    population, world = synthesized
    sectors = load_job_sectors()
    firms = population.firms
    share = jobs.jobs_by_sector(firms, len(sectors)) / firms.jobs.sum()
    assert share == pytest.approx(sectors.share, abs=0.001)
    oslo = world.codes.index("0301")
    in_oslo = firms.municipality == oslo
    oslo_share = np.bincount(firms.sector[in_oslo], firms.jobs[in_oslo], len(sectors))
    assert oslo_share / firms.jobs[in_oslo].sum() == pytest.approx(sectors.share, abs=0.005)


def test_one_year_on_the_synthesized_firms(synthesized):
    population, world = synthesized
    firms = copy_firms(population.firms)
    sectors = load_job_sectors()
    n_cells = len(world.cell_x)
    jobs_per_cell = np.bincount(firms.cell, firms.jobs, n_cells)
    allowed = jobs_per_cell > 0
    access = window_sum(world, jobs_per_cell, 3) + 1.0  # a stand-in
    total = int(round(firms.jobs.sum() * 1.002))  # slow growth: some sectors shrink
    targets = jobs.sector_targets(
        jobs.jobs_by_sector(firms, len(sectors)), total, jobs.relative_trends(sectors, PARAMS)
    )
    flows = run_step(firms, targets, world, access, allowed)
    assert np.array_equal(jobs.jobs_by_sector(firms, len(sectors)), targets)
    assert firms.jobs.sum() == total and (firms.jobs >= 1).all()
    assert allowed[firms.cell].all()
    assert np.array_equal(world.cell_municipality[firms.cell], firms.municipality)
    assert flows.firms_opened.sum() > 100 and flows.firms_closed.sum() > 0


def test_the_model_grows_jobs_with_its_labour_supply_and_reports_the_flows():
    from model.region_model import RegionModel

    model = RegionModel(seed=2, scale=0.02)
    ratio = model.jobs_per_employed
    for _ in range(2):
        model.step()
    table = model.indicator_table().query("kommunenummer != 'region'")
    wide = table.pivot_table(index=["year", "kommunenummer"], columns="indicator", values="value")
    change = wide.loc[2026, "jobs"] - wide.loc[2025, "jobs"]
    net = wide.loc[2025, "jobs_created"] - wide.loc[2025, "jobs_lost"]
    assert np.allclose(change, net)  # every job gained or lost is in the flows
    employed = wide.loc[2026, "employed"].sum()
    assert wide.loc[2026, "jobs"].sum() == pytest.approx(ratio * employed, abs=1)
    assert wide.loc[2025, "firms_opened"].sum() > 0
