"""Workplaces: every employed person gets an establishment (a firm row, and so a cell).

The gravity model (``model.commuting``) gives commuters between municipalities in
full-population units, balanced to the employed residents of each home municipality and the
jobs of each work municipality. This module turns that matrix into one workplace per employed
person row, in three steps:

1. *Work municipality.* The employed rows of each home municipality are shuffled and split
   by largest-remainder apportionment into those who work outside the region (the 2022 share
   of SSB 03321) and those who work in each municipality of the region (the row of the
   gravity matrix). Each municipality's row count is therefore exact, and each column is the
   gravity column to within one row weight per home municipality.
2. *Work zone.* Inside a work municipality the workers' home zones and the zones holding its
   jobs form a small doubly-constrained model with the same deterrence
   ``exp(-beta c_zy)`` on the zone generalised time: rows are the workers of each home zone,
   columns the zone's jobs scaled to the workers. Its cells are apportioned to whole rows,
   so people living close to a job zone are more likely to work there.
3. *Establishment.* Inside a work zone a worker picks an establishment with probability
   proportional to its jobs.

Workplaces are redrawn every year from the balanced distribution (a yearly cross-section, as
the register statistic is), not followed as careers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import NO_ROW
from model.commuting import furness_blocks

OUTSIDE = -1  # work municipality of someone working outside the region
# The zone model's Furness (step 2): at most 50 iterations, rows within 1e-6 of the workers.
ZONE_MAX_ITERATIONS = 50
ZONE_TOLERANCE = 1e-6


def apportion_rows(rows_total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Whole numbers per cell of ``weights`` whose rows sum exactly to ``rows_total``.

    Largest-remainder (Hamilton) apportionment row by row: each row's expected counts are
    ``rows_total * weights / row sum``; the floors are kept and the rows' leftovers go to the
    cells with the largest fractional parts.
    """
    weights = np.atleast_2d(np.asarray(weights, float))
    rows_total = np.asarray(rows_total, np.int64).reshape(-1)
    row_sum = weights.sum(axis=1, keepdims=True)
    share = np.divide(weights, row_sum, out=np.zeros_like(weights), where=row_sum > 0)
    expected = share * rows_total[:, None]
    counts = np.floor(expected).astype(np.int64)
    leftover = rows_total - counts.sum(axis=1)
    rank = np.argsort(np.argsort(-(expected - counts), axis=1, kind="stable"), axis=1)
    counts += (rank < leftover[:, None]).astype(np.int64)
    return counts


def work_municipality(
    home_municipality: np.ndarray,
    flows: np.ndarray,
    inside_share: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Work municipality of every worker row (``OUTSIDE`` for work outside the region).

    ``flows`` is the gravity matrix (home x work, any unit: only its row shares matter);
    ``inside_share`` the share of each home municipality's employed working in the region.
    """
    n = flows.shape[0]
    result = np.full(len(home_municipality), OUTSIDE, dtype=np.int64)
    order = rng.permutation(len(home_municipality))
    order = order[np.argsort(home_municipality[order], kind="stable")]
    starts = np.searchsorted(home_municipality[order], np.arange(n + 1))
    row_sum = flows.sum(axis=1)
    for i in range(n):
        members = order[starts[i] : starts[i + 1]]
        if len(members) == 0:
            continue
        inside = inside_share[i] if row_sum[i] > 0 else 0.0
        shares = np.concatenate(
            [[1.0 - inside], inside * flows[i] / row_sum[i] if row_sum[i] > 0 else np.zeros(n)]
        )
        counts = apportion_rows(np.array([len(members)]), shares[None, :])[0]
        result[members] = np.repeat(np.arange(-1, n), counts)
    return result


def assign_workplaces(
    home_municipality: np.ndarray,
    home_zone: np.ndarray,
    flows: np.ndarray,
    inside_share: np.ndarray,
    firm_municipality: np.ndarray,
    firm_zone: np.ndarray,
    firm_jobs: np.ndarray,
    zone_deterrence: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Firm row of every worker (``NO_ROW`` for work outside the region), see the module doc.

    Arrays ``home_*`` are per worker row; ``firm_*`` per firm row; ``zone_deterrence`` is
    the zone x zone ``exp(-beta c)`` of the commuting model.
    """
    workplace = np.full(len(home_municipality), NO_ROW, dtype=np.int32)
    destination = work_municipality(home_municipality, flows, inside_share, rng)
    firm_order = np.lexsort((firm_zone, firm_municipality))
    blocks = []
    for j in np.unique(destination[destination != OUTSIDE]):
        workers = np.flatnonzero(destination == j)
        firms = firm_order[firm_municipality[firm_order] == j]
        firms = firms[firm_jobs[firms] > 0]
        if len(firms) == 0:
            raise ValueError(f"municipality {j} receives workers but has no jobs")
        blocks.append(ZoneBlock.of(workers, home_zone[workers], firms, firm_zone[firms]))
    balanced = furness_blocks(
        [block.seed(zone_deterrence) for block in blocks],
        [block.workers_per_home.astype(float) for block in blocks],
        [block.targets(firm_jobs) for block in blocks],
        ZONE_MAX_ITERATIONS,
        ZONE_TOLERANCE,
    )
    for block, matrix in zip(blocks, balanced, strict=True):
        worker_zone = block.work_zone(matrix, rng)
        workplace[block.workers] = _firm_in_zone(
            worker_zone, block.firms, block.job_zone_of_firm, firm_jobs[block.firms], rng
        )
    return workplace


@dataclass(frozen=True)
class ZoneBlock:
    """The zone model of one work municipality (step 2): its workers' and jobs' zones."""

    workers: np.ndarray  # worker rows (into the ``home_*`` arrays)
    firms: np.ndarray  # firm rows with jobs, sorted by zone
    home_zones: np.ndarray  # distinct home zones of the workers
    home_of_worker: np.ndarray  # index into ``home_zones`` per worker
    workers_per_home: np.ndarray
    job_zones: np.ndarray  # distinct zones of the firms
    job_zone_of_firm: np.ndarray  # index into ``job_zones`` per firm

    @classmethod
    def of(
        cls, workers: np.ndarray, home_zone: np.ndarray, firms: np.ndarray, firm_zone: np.ndarray
    ) -> ZoneBlock:
        """The block of ``workers`` (with their home zones) and ``firms`` (with theirs)."""
        home_zones, home_of_worker = np.unique(home_zone, return_inverse=True)
        job_zones, job_zone_of_firm = np.unique(firm_zone, return_inverse=True)
        return cls(
            workers,
            firms,
            home_zones,
            home_of_worker,
            np.bincount(home_of_worker),
            job_zones,
            job_zone_of_firm,
        )

    def seed(self, zone_deterrence: np.ndarray) -> np.ndarray:
        """``exp(-beta c)`` between home and job zones (a pair without any mode still balances)."""
        return np.maximum(zone_deterrence[np.ix_(self.home_zones, self.job_zones)], 1e-300)

    def targets(self, firm_jobs: np.ndarray) -> np.ndarray:
        """Each job zone's jobs, scaled so that they sum to the workers."""
        zone_jobs = np.bincount(self.job_zone_of_firm, firm_jobs[self.firms]).astype(float)
        return zone_jobs * self.workers_per_home.sum() / zone_jobs.sum()

    def work_zone(self, balanced: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Index into ``job_zones`` of each worker, from the balanced zone matrix."""
        counts = apportion_rows(self.workers_per_home, balanced)
        shuffled = rng.permutation(len(self.workers))
        by_home = shuffled[np.argsort(self.home_of_worker[shuffled], kind="stable")]
        zone = np.empty(len(self.workers), dtype=np.int64)
        n_home, n_job = balanced.shape
        zone[by_home] = np.repeat(np.tile(np.arange(n_job), n_home), counts.ravel())
        return zone


def _firm_in_zone(
    worker_zone: np.ndarray,
    firms: np.ndarray,
    zone_of_firm: np.ndarray,
    jobs: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """A firm of the worker's zone for each worker, with probability proportional to jobs.

    ``firms`` are sorted by zone, so the firms of a zone are one slice of the cumulative jobs.
    """
    cumulative = np.cumsum(jobs, dtype=float)
    zone_total = np.bincount(zone_of_firm, jobs)
    zone_end = zone_total.cumsum().astype(float)
    zone_start = zone_end - zone_total
    draw = zone_start[worker_zone] + rng.random(len(worker_zone)) * (
        zone_end[worker_zone] - zone_start[worker_zone]
    )
    pick = np.minimum(np.searchsorted(cumulative, draw, side="right"), len(firms) - 1)
    return firms[pick].astype(np.int32)
