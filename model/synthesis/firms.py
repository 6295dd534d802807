"""Establishments and their jobs: municipal job totals split into firms of realistic sizes.

Firm sizes are drawn from the SSB establishment size classes (shares of establishments with at
least one employee), log-uniformly within a class (small sizes more common, as within every
class of a skewed size distribution). Firms are drawn until the municipality's jobs
(SSB 11618, by place of work) are reached; the last firm is cut so the total is exact. Each
firm gets a land cell by the firm cell weights. Firms are always synthesized in full (about
120 000 of them): the ``scale`` samples households, not jobs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agents.population import Firms


def firm_sizes(total_jobs: int, size_classes: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Sizes (jobs) of establishments that sum exactly to ``total_jobs``."""
    if total_jobs <= 0:
        return np.zeros(0, dtype=np.int32)
    low = size_classes["employees_min"].to_numpy(np.int64)
    high = size_classes["employees_max"].to_numpy(np.int64)
    share = size_classes["share_of_establishments"].to_numpy(float)
    share = share / share.sum()
    mean_size = float(share @ ((high - low) / np.log((high + 1) / low)))
    sizes = np.zeros(0, dtype=np.int64)
    while sizes.sum() < total_jobs:
        n = int(1.2 * (total_jobs - sizes.sum()) / mean_size) + 10
        size_class = rng.choice(len(share), n, p=share)
        log_size = rng.uniform(np.log(low[size_class]), np.log(high[size_class] + 1))
        drawn = np.minimum(np.floor(np.exp(log_size)), high[size_class]).astype(np.int64)
        sizes = np.concatenate([sizes, drawn])
    cumulative = np.cumsum(sizes)
    last = int(np.searchsorted(cumulative, total_jobs))
    sizes = sizes[: last + 1]
    sizes[-1] = total_jobs - (cumulative[last - 1] if last > 0 else 0)
    return sizes.astype(np.int32)


def build_firms(
    cells_by_municipality: list[np.ndarray],
    cell_weights: np.ndarray,
    jobs: np.ndarray,
    size_classes: pd.DataFrame,
    rng: np.random.Generator,
) -> Firms:
    """Establishments of every municipality, placed in its land cells."""
    municipality, cell, firm_jobs = [], [], []
    for m, cells in enumerate(cells_by_municipality):
        sizes = firm_sizes(int(jobs[m]), size_classes, rng)
        p = cell_weights[cells] / cell_weights[cells].sum()
        municipality.append(np.full(len(sizes), m, dtype=np.int16))
        cell.append(rng.choice(cells, len(sizes), p=p).astype(np.int32))
        firm_jobs.append(sizes)
    return Firms(np.concatenate(municipality), np.concatenate(cell), np.concatenate(firm_jobs))
