"""Random streams: one per sub-model, each spawned from the run's seed by its name.

A stream is keyed by the run's seed and a stable hash of the sub-model's name
(``numpy.random.SeedSequence(seed, spawn_key=(crc32(name),))``), so adding, removing or
reordering sub-models never changes the draws of another one.
"""

from __future__ import annotations

import zlib

import numpy as np


def random_stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of sub-model ``name`` in a run with ``seed``."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))
