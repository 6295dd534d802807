"""Establishments and their jobs: municipal job totals split into firms of realistic sizes.

Firm sizes are drawn from the SSB establishment size classes (shares of establishments with at
least one employee), log-uniformly within a class (small sizes more common, as within every
class of a skewed size distribution). Firms are drawn until the municipality's jobs
(SSB 11618, by place of work) are reached; the last firm is cut so the total is exact. Each
firm gets a land cell by the firm cell weights. Firms are always synthesized in full (about
120 000 of them): the ``scale`` samples households, not jobs.

Each firm belongs to one industry sector (``data/parameters/job_sectors.csv``, SN2007
sections). There are no municipal sector data in the bundle, so every municipality gets the
national mix of employed persons by sector (SSB register-based employment, 2023, as quoted by
NAV): its firms are put in a random order and the line of their jobs is cut into sector
segments by the national shares (systematic sampling). Each firm's sector is thus a draw with
the national probabilities, and each municipality's jobs by sector match the national shares
to within the size of one firm per sector boundary; these rounding errors are carried from one
municipality to the next so that they do not add up over the region.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agents.population import Firms
from model.parameters import PARAMETERS_DIR, ParameterError, read_csv

SECTOR_COLUMNS = ("sector_code", "sector_nb", "sn2007", "employed_2022", "employed_2023")


@dataclass(frozen=True)
class JobSectors:
    """Industry sectors: national employed persons by SN2007 section, 2022 and 2023.

    A sector's index (its row in ``job_sectors.csv``) is the value of ``Firms.sector``.
    """

    codes: tuple[str, ...]  # short ascii id, e.g. "construction"
    names_nb: tuple[str, ...]  # Norwegian name of the statistic
    sn2007: tuple[str, ...]  # SN2007 section letters, e.g. "F" or "D-E"
    employed_2022: np.ndarray  # int64, persons employed in Norway
    employed_2023: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def share(self) -> np.ndarray:
        """National share of employed persons of each sector, 2023 (the base-year mix)."""
        return self.employed_2023 / self.employed_2023.sum()

    @property
    def relative_trend(self) -> np.ndarray:
        """Each sector's 2022->2023 growth factor divided by that of all sectors.

        Above 1 for a sector that grew faster than total employment (it gained share).
        """
        total = self.employed_2023.sum() / self.employed_2022.sum()
        return (self.employed_2023 / self.employed_2022) / total


def load_job_sectors(folder: Path = PARAMETERS_DIR) -> JobSectors:
    """Read ``job_sectors.csv``, refusing missing columns, duplicate ids and counts <= 0."""
    path = folder / "job_sectors.csv"
    table = read_csv(path, SECTOR_COLUMNS, dtype={"sn2007": str})
    if table["sector_code"].duplicated().any():
        raise ParameterError(f"{path}: column 'sector_code' has duplicates")
    if not 0 < len(table) <= np.iinfo(np.int8).max:
        raise ParameterError(f"{path}: {len(table)} sectors; allowed: 1 to 127")
    counts = {}
    for column in ("employed_2022", "employed_2023"):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(float)
        if not (np.isfinite(values) & (values > 0)).all():
            raise ParameterError(f"{path}: column '{column}' must be positive numbers")
        counts[column] = values.astype(np.int64)
    return JobSectors(
        codes=tuple(table["sector_code"]),
        names_nb=tuple(table["sector_nb"]),
        sn2007=tuple(table["sn2007"]),
        employed_2022=counts["employed_2022"],
        employed_2023=counts["employed_2023"],
    )


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
    sector_shares: np.ndarray,
    rng: np.random.Generator,
) -> Firms:
    """Establishments of every municipality, placed in its land cells, with their sectors.

    ``sector_shares`` is the share of jobs of each sector (``JobSectors.share``); every
    municipality gets that mix (see :func:`allot_sectors`), and what a sector got too much or
    too little in one municipality (whole firms do not cut the shares exactly) is carried to
    the next, so the region's jobs by sector follow the shares to within a few firms.
    Sectors are drawn after all sizes and cells, so those do not depend on the sector table.
    """
    municipality, cell, firm_jobs = [], [], []
    for m, cells in enumerate(cells_by_municipality):
        sizes = firm_sizes(int(jobs[m]), size_classes, rng)
        p = cell_weights[cells] / cell_weights[cells].sum()
        municipality.append(np.full(len(sizes), m, dtype=np.int16))
        cell.append(rng.choice(cells, len(sizes), p=p).astype(np.int32))
        firm_jobs.append(sizes)
    shares = np.asarray(sector_shares, dtype=float) / np.sum(sector_shares)
    assigned, placed, sector = np.zeros(len(shares)), 0, []
    for sizes in firm_jobs:
        placed += int(sizes.sum())
        sector.append(allot_sectors(sizes, np.maximum(shares * placed - assigned, 0.0), rng))
        assigned += np.bincount(sector[-1], sizes, len(shares))
    return Firms(
        np.concatenate(municipality),
        np.concatenate(cell),
        np.concatenate(firm_jobs),
        np.concatenate(sector),
    )


def allot_sectors(sizes: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sector (int8) of each firm so that its jobs by sector follow ``shares`` (any scale).

    The firms are put in a random order and their jobs laid end to end; the line is cut into
    one segment per sector with lengths ``shares * total jobs``, and a firm takes the sector
    of the segment holding the middle of its jobs. Each firm's sector is a draw with
    probabilities ``shares``; the jobs of a sector differ from ``shares * total`` by less
    than one firm's size at each end of its segment.
    """
    shares = np.asarray(shares, dtype=float)
    sector = np.zeros(len(sizes), dtype=np.int8)
    if len(sizes) == 0:
        return sector
    order = rng.permutation(len(sizes))
    ordered = np.asarray(sizes, dtype=float)[order]
    middle = np.cumsum(ordered) - ordered / 2
    bounds = np.cumsum(shares / shares.sum())[:-1] * ordered.sum()
    sector[order] = np.searchsorted(bounds, middle, side="right")
    return sector
