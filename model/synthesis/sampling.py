"""Small vectorised sampling tools shared by the synthesis steps."""

from __future__ import annotations

import numpy as np


def weighted_sample_without_replacement(
    weights: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Choose ``k`` distinct rows with probability proportional to ``weights``, sorted.

    Uses the Gumbel-top-k trick (Efraimidis and Spirakis): each row gets the key
    ``log(weight) + Gumbel noise`` and the ``k`` largest keys win. One pass, no Python loop.
    Rows with weight 0 are chosen only when nothing else is left.
    """
    n = len(weights)
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    with np.errstate(divide="ignore"):
        keys = np.log(np.asarray(weights, dtype=float)) + rng.gumbel(size=n)
    keys[~np.isfinite(keys)] = -1e300
    return np.sort(np.argpartition(-keys, k - 1)[:k])


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into whole numbers proportional to ``shares`` (largest remainder).

    The parts sum to ``total`` exactly; ties go to the earlier share.
    """
    shares = np.asarray(shares, dtype=float)
    if total <= 0 or shares.sum() <= 0:
        return np.zeros(len(shares), dtype=np.int64)
    exact = total * shares / shares.sum()
    parts = np.floor(exact).astype(np.int64)
    short = total - int(parts.sum())
    if short > 0:
        order = np.argsort(-(exact - parts), kind="stable")
        parts[order[:short]] += 1
    return parts


def nearest_present(present_values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the closest value in the sorted array ``present_values``."""
    position = np.searchsorted(present_values, queries)
    below = present_values[np.clip(position - 1, 0, len(present_values) - 1)]
    above = present_values[np.clip(position, 0, len(present_values) - 1)]
    return np.where(np.abs(queries - below) <= np.abs(above - queries), below, above)
