"""Jobs and firms: sectors grow at their national trend, new establishments choose cells.

One yearly step (design guide step 3), in two parts:

1. :func:`sector_targets`: next year's jobs per sector. The caller gives the region's total
   (it follows the labour supply, the employed residents); it is split across sectors so
   that each sector grows at its national 2022->2023 growth relative to the total
   (``JobSectors.relative_trend``, raised to ``relative_trend_weight``): a sector that grew
   faster than total employment nationally gains share.
2. :func:`step`: the firm table moves to those targets, in place.

   - Jobs are destroyed and created beyond the net change: every sector loses
     ``turnover_per_year`` of its jobs and creates as many again, besides its net change.
   - Destroyed jobs are drawn at random, each of the sector's jobs equally likely (so firms
     lose jobs in proportion to their size); an establishment left with no job closes and
     its row is removed.
   - Created jobs: ``expansion_share`` of them go to the sector's existing establishments in
     proportion to their size, the rest found new establishments, sized from the SSB
     establishment size classes (``model.synthesis.firms.firm_sizes``).
   - Each new establishment chooses a land cell by a multinomial logit over the *allowed*
     cells (within zoning: settled land, chosen by the caller) with utility
     ``labour_access_weight * log(labour access) + agglomeration_weight * log(1 + jobs
     in the neighbourhood) + location_constant`` of the cell's municipality (solved by the
     calibration so that municipal job growth follows 2017-2022). A cell stops receiving
     new establishments once they brought it ``max_new_jobs_per_cell`` jobs in the year. Its
     municipality is the cell's.

After the step each sector holds exactly its target (integers) and every firm has at least
one job. Firm rows move (closed rows go, new rows are appended): :class:`JobFlows` carries
the new row of every old row, for tables that point at firms (a person's workplace).

Pure numpy over the column tables; the world enters only through :class:`JobsWorld`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from agents.population import NO_ROW, Firms
from model.parameters import municipal_values, parameter_file
from model.synthesis.firms import JobSectors, firm_sizes
from model.synthesis.sampling import apportion
from model.world import window_sum


class JobsWorld(Protocol):
    """The parts of the model's ``World`` that the job step reads."""

    codes: tuple[str, ...]  # one per municipality
    width: int  # grid columns
    height: int  # grid rows
    cell_x: np.ndarray  # grid column of each land cell
    cell_y: np.ndarray  # grid row of each land cell
    cell_municipality: np.ndarray  # municipality index of each land cell


@parameter_file(
    "jobs.toml",
    ranges={
        "relative_trend_weight": (0.0, 10.0, True),
        "expansion_share": (0.0, 1.0, True),
        "labour_access_weight": (0.0, 10.0, True),
        "agglomeration_weight": (0.0, 10.0, True),
        "agglomeration_radius_cells": (0, 10, True),
        "max_new_jobs_per_cell": (0.0, float("inf"), False),
        "turnover_per_year": (0.0, 0.5, True),
    },
)
@dataclass(frozen=True)
class JobParameters:
    """Sector trends and the location choice of new establishments (jobs.toml)."""

    relative_trend_weight: float
    expansion_share: float
    labour_access_weight: float
    agglomeration_weight: float
    agglomeration_radius_cells: int
    max_new_jobs_per_cell: float
    turnover_per_year: float
    location_constant: dict[str, float]  # by municipality number, utility


@dataclass(frozen=True)
class JobFlows:
    """What changed in one year, per municipality, and where the old firm rows went."""

    jobs_created: np.ndarray  # int64, in expanding and new establishments
    jobs_lost: np.ndarray  # int64, in shrinking and closing establishments
    firms_opened: np.ndarray  # int64
    firms_closed: np.ndarray  # int64
    new_row_of_firm: np.ndarray  # int64, per firm row before the step: its row now, or NO_ROW


def relative_trends(sectors: JobSectors, params: JobParameters) -> np.ndarray:
    """Yearly growth of each sector relative to the total, as used by :func:`sector_targets`."""
    return sectors.relative_trend**params.relative_trend_weight


def jobs_by_sector(firms: Firms, n_sectors: int) -> np.ndarray:
    """Jobs (int64) of each sector."""
    return np.bincount(firms.sector, firms.jobs, n_sectors).round().astype(np.int64)


def sector_targets(
    firms_jobs_by_sector: np.ndarray, total_jobs_target: int, relative_trend: np.ndarray
) -> np.ndarray:
    """Next year's jobs (int64) of each sector, summing exactly to ``total_jobs_target``.

    Sector ``s`` gets ``total * jobs_s * trend_s / sum(jobs * trend)``, rounded by largest
    remainder: its growth relative to the total's is ``trend_s`` over the job-weighted mean
    trend. A sector without jobs stays without.
    """
    jobs = np.asarray(firms_jobs_by_sector, dtype=float)
    trend = np.asarray(relative_trend, dtype=float)
    if total_jobs_target < 0:
        raise ValueError(f"total_jobs_target must be >= 0, got {total_jobs_target}")
    if jobs.shape != trend.shape or (jobs < 0).any() or (trend <= 0).any():
        raise ValueError("need jobs >= 0 and relative trends > 0, one of each per sector")
    weight = jobs * trend
    if weight.sum() <= 0:
        if total_jobs_target > 0:
            raise ValueError("no sector holds jobs, so none can grow")
        return np.zeros(len(jobs), dtype=np.int64)
    return apportion(int(total_jobs_target), weight)


def step(
    firms: Firms,
    sector_target_jobs: np.ndarray,
    labour_access_per_cell: np.ndarray,
    allowed_cell: np.ndarray,
    world: JobsWorld,
    size_classes: pd.DataFrame,
    rng: np.random.Generator,
    params: JobParameters,
) -> JobFlows:
    """Move every sector's jobs to ``sector_target_jobs``, in place; return the flows.

    ``labour_access_per_cell`` is any positive measure of the workers a land cell reaches
    (e.g. employed residents weighted by ``exp(-beta * time)``; only ratios matter, a cell
    with 0 is never chosen). ``allowed_cell`` marks the land cells where new establishments
    may locate. ``size_classes`` is ``establishment_size_classes.csv``.
    """
    targets = np.asarray(sector_target_jobs, dtype=np.int64)
    n_cells, n_municipalities = len(world.cell_x), len(world.codes)
    n_sectors = len(targets)
    if (targets < 0).any():
        raise ValueError("sector targets must be >= 0")
    if len(firms) and int(firms.sector.max()) >= n_sectors:
        raise ValueError(f"a firm's sector is {int(firms.sector.max())}; only {n_sectors} targets")
    jobs_per_cell = np.bincount(firms.cell, firms.jobs, n_cells)
    current = jobs_by_sector(firms, n_sectors)

    lost = np.zeros(len(firms), dtype=np.int64)
    gained = np.zeros(len(firms), dtype=np.int64)
    new_sizes, new_sectors = [], []
    for sector in range(n_sectors):
        rows = np.flatnonzero(firms.sector == sector)
        change = int(targets[sector] - current[sector])
        turnover = int(round(params.turnover_per_year * current[sector]))
        destroyed, created = max(-change, 0) + turnover, max(change, 0) + turnover
        if destroyed:
            lost[rows] = rng.multivariate_hypergeometric(
                firms.jobs[rows].astype(np.int64), destroyed
            )
        if created:
            expand = int(round(params.expansion_share * created)) if len(rows) else 0
            size = firms.jobs[rows].astype(float)
            if expand:
                gained[rows] = rng.multinomial(expand, size / size.sum())
            sizes = firm_sizes(created - expand, size_classes, rng)
            new_sizes.append(sizes)
            new_sectors.append(np.full(len(sizes), sector, dtype=np.int8))

    sizes = np.concatenate([np.zeros(0, dtype=np.int32), *new_sizes])
    cells = np.zeros(0, dtype=np.int64)
    if len(sizes):
        weight = location_weights(
            labour_access_per_cell, jobs_per_cell, allowed_cell, world, params
        )
        cells = place_establishments(sizes, weight, params.max_new_jobs_per_cell, rng)
    municipality = world.cell_municipality[cells].astype(np.int16)

    firms.jobs = (firms.jobs - lost + gained).astype(np.int32)
    closed = firms.jobs == 0
    kept = np.flatnonzero(~closed)
    new_row = np.full(len(firms), NO_ROW, dtype=np.int64)
    new_row[kept] = np.arange(len(kept))
    flows = JobFlows(
        jobs_created=np.bincount(firms.municipality, gained, n_municipalities).astype(np.int64)
        + np.bincount(municipality, sizes, n_municipalities).astype(np.int64),
        jobs_lost=np.bincount(firms.municipality, lost, n_municipalities).astype(np.int64),
        firms_opened=np.bincount(municipality, minlength=n_municipalities).astype(np.int64),
        firms_closed=np.bincount(firms.municipality[closed], minlength=n_municipalities),
        new_row_of_firm=new_row,
    )
    firms.take(kept)
    firms.append(
        Firms(
            municipality=municipality,
            cell=cells.astype(np.int32),
            jobs=sizes.astype(np.int32),
            sector=np.concatenate([np.zeros(0, dtype=np.int8), *new_sectors]),
        )
    )
    return flows


def location_weights(
    labour_access_per_cell: np.ndarray,
    jobs_per_cell: np.ndarray,
    allowed_cell: np.ndarray,
    world: JobsWorld,
    params: JobParameters,
) -> np.ndarray:
    """``exp(utility)`` of every land cell for a new establishment, up to a common factor.

    Utility ``a * log(access) + b * log(1 + jobs in the neighbourhood)``; 0 where the cell
    is not allowed or has no labour access. Raises ValueError if no cell can be chosen.
    """
    access = np.asarray(labour_access_per_cell, dtype=float)
    agglomeration = window_sum(
        world, np.asarray(jobs_per_cell, dtype=float), params.agglomeration_radius_cells
    )
    ok = np.asarray(allowed_cell, dtype=bool) & (access > 0)
    if not ok.any():
        raise ValueError("no allowed land cell with labour access > 0 for new establishments")
    constant = municipal_values(params.location_constant, world.codes)[world.cell_municipality]
    utility = (
        params.labour_access_weight * np.log(access[ok])
        + params.agglomeration_weight * np.log1p(agglomeration[ok])
        + constant[ok]
    )
    weight = np.zeros(len(access))
    weight[ok] = np.exp(utility - utility.max())
    return weight


def place_establishments(
    sizes: np.ndarray, weight: np.ndarray, max_new_jobs_per_cell: float, rng: np.random.Generator
) -> np.ndarray:
    """Land cell (int64) of each new establishment, drawn with probabilities ``weight``.

    Establishments come in a random order; a cell takes them while the new jobs it already
    received this year are below ``max_new_jobs_per_cell``. Those refused draw again among
    the cells still open (ignoring the cap if every cell with weight is full).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    cells = np.full(len(sizes), NO_ROW, dtype=np.int64)
    received = np.zeros(len(weight))
    cap = float(max_new_jobs_per_cell)
    pending = rng.permutation(len(sizes))
    while len(pending):
        open_cell = (weight > 0) & (received < cap)
        if not open_cell.any():
            cap = np.inf
            open_cell = weight > 0
        p = np.where(open_cell, weight, 0.0)
        drawn = rng.choice(len(weight), len(pending), p=p / p.sum())
        order = np.argsort(drawn, kind="stable")  # by cell, in the random order within it
        cell, size = drawn[order], sizes[pending[order]]
        before = np.cumsum(size) - size  # jobs of the batch ahead, across cells
        first_of_cell = np.searchsorted(cell, cell, side="left")
        before -= before[first_of_cell]
        accept = received[cell] + before < cap
        cells[pending[order[accept]]] = cell[accept]
        np.add.at(received, cell[accept], size[accept])
        pending = rng.permutation(pending[order[~accept]])
    return cells
