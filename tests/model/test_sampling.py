"""Property tests of the sampling tools every synthesis step relies on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model.synthesis.sampling import apportion, weighted_sample_without_replacement

shares = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=12)


@given(total=st.integers(0, 10_000), shares=shares)
def test_apportion_sums_exactly_and_stays_within_one_of_the_exact_share(total, shares):
    parts = apportion(total, np.array(shares))
    if sum(shares) == 0:
        assert parts.sum() == 0
        return
    assert parts.sum() == total
    exact = total * np.array(shares) / sum(shares)
    assert np.all(np.abs(parts - exact) < 1 + 1e-9)
    assert np.all(parts >= 0)


@settings(max_examples=50)
@given(
    weights=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=200),
    k=st.integers(0, 250),
    seed=st.integers(0, 2**32 - 1),
)
def test_weighted_sample_is_distinct_sorted_and_prefers_positive_weights(weights, k, seed):
    weights = np.array(weights)
    chosen = weighted_sample_without_replacement(weights, k, np.random.default_rng(seed))
    assert len(chosen) == min(k, len(weights))
    assert len(np.unique(chosen)) == len(chosen)
    assert np.all(np.diff(chosen) > 0)
    positive = np.count_nonzero(weights > 0)
    assert np.count_nonzero(weights[chosen] > 0) == min(len(chosen), positive)


def test_weighted_sample_follows_the_weights():
    rng = np.random.default_rng(0)
    weights = np.array([1.0, 3.0])
    picks = [weighted_sample_without_replacement(weights, 1, rng)[0] for _ in range(4000)]
    assert abs(np.mean(picks) - 0.75) < 0.03
