"""Long tables built from column blocks: one DataFrame at the end, not one per block.

A yearly sub-model appends a block per group (a vehicle class, an emission source); a block
maps each column to an array, or to one value that holds for every row of the block.
Building a small DataFrame per block and concatenating them cost a second a run at
dashboard scale; concatenating the columns' arrays costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

Block = dict[str, Any]


def block_rows(block: Block) -> int:
    """The number of rows of a block: the length of its array columns (they must agree)."""
    lengths = {len(value) for value in block.values() if np.ndim(value) > 0}
    if len(lengths) != 1:
        raise ValueError(f"a block's array columns differ in length or are missing: {lengths}")
    return lengths.pop()


def frame_from_blocks(blocks: Sequence[Block], columns: Sequence[str]) -> pd.DataFrame:
    """One DataFrame with ``columns`` from ``blocks`` stacked in order.

    A one-value column is repeated over its block's rows, keeping the value's numpy type
    (``np.int32(year)`` stays int32).
    """
    if not blocks:
        return pd.DataFrame({name: [] for name in columns})
    rows = [block_rows(block) for block in blocks]
    data = {}
    for name in columns:
        parts = [
            np.asarray(block[name]) if np.ndim(block[name]) > 0 else np.full(n, block[name])
            for block, n in zip(blocks, rows, strict=True)
        ]
        data[name] = np.concatenate(parts)
    return pd.DataFrame(data)
