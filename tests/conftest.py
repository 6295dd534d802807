"""Shared fixtures: models are expensive, so each is built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.bundle import DEFAULT_BUNDLE_DIR
from model.region_model import RegionModel

SMALL_SCALE = 0.05


@pytest.fixture(scope="session")
def full_model() -> RegionModel:
    """The default region at scale 1.0 (one row per real household), base year only."""
    return RegionModel(seed=1, scale=1.0)


@pytest.fixture(scope="session")
def small_model() -> RegionModel:
    """The default region at the dashboard-like scale 0.05, base year only."""
    return RegionModel(seed=1, scale=SMALL_SCALE)


@pytest.fixture()
def bundle_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped bundle, for tests that break it."""
    target = tmp_path / "bundle"
    shutil.copytree(DEFAULT_BUNDLE_DIR, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target
