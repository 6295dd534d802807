"""Shared fixtures: models are expensive, so each is built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.bundle import DEFAULT_BUNDLE_DIR
from model.parameters import PARAMETERS_DIR
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


def _writable_copy(source: Path, target: Path) -> Path:
    """Copy the folder ``source`` to ``target``, every file writable."""
    shutil.copytree(source, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture()
def bundle_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped bundle, for tests that break it."""
    return _writable_copy(DEFAULT_BUNDLE_DIR, tmp_path / "bundle")


@pytest.fixture()
def parameters_dir_copy(tmp_path: Path) -> Path:
    """A writable copy of data/parameters, for tests that change or overlay it."""
    return _writable_copy(PARAMETERS_DIR, tmp_path / "parameters")
