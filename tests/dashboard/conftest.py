"""Fixtures of the dashboard tests: the process tree of a server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def process_descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def process_running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture()
def descendants() -> Callable[[int], list[int]]:
    """``descendants(pid)``: every process below ``pid``."""
    return process_descendants


@pytest.fixture()
def running() -> Callable[[int], bool]:
    """``running(pid)``: whether the process has not ended."""
    return process_running
