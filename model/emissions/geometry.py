"""Where traffic drives: straight lines and corridor roads laid over the 1 km grid.

Miljødirektoratet counts road emissions in the municipality where the vehicle drives. A
commute is spread over the municipalities its straight line from home to work crosses; a
corridor's through traffic over the municipalities its road passes. Points that fall on
water or outside the region are dropped (their km go to the other points of the line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.geo import lonlat_to_utm33
from model.world import CELL_SIZE_M, World

OUTSIDE = -1


def municipality_at(world: World, easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Municipality index of the land cell under each point, ``OUTSIDE`` (-1) elsewhere."""
    grid = world.to_grid(world.cell_municipality.astype(np.int64), OUTSIDE)
    x = np.floor((np.asarray(easting_m) - world.origin_easting_m) / CELL_SIZE_M).astype(np.int64)
    y = np.floor((np.asarray(northing_m) - world.origin_northing_m) / CELL_SIZE_M).astype(np.int64)
    inside = (x >= 0) & (x < world.width) & (y >= 0) & (y < world.height)
    result = np.full(x.shape, OUTSIDE, dtype=np.int64)
    result[inside] = grid[x[inside], y[inside]]
    return result


def line_shares(world: World, samples: int) -> np.ndarray:
    """Share of a straight commute in each municipality, for every pair of municipalities.

    Lines run between the administrative centres; returns an array (n * n, n) whose row
    ``home * n + work`` sums to 1. A line with no point on land splits half and half.
    """
    n = world.n_municipalities
    t = (np.arange(samples) + 0.5) / samples
    home, work = np.divmod(np.arange(n * n), n)
    easting = world.centre_easting_m[home, None] + np.outer(
        world.centre_easting_m[work] - world.centre_easting_m[home], t
    )
    northing = world.centre_northing_m[home, None] + np.outer(
        world.centre_northing_m[work] - world.centre_northing_m[home], t
    )
    where = municipality_at(world, easting, northing)
    pair = np.repeat(np.arange(n * n), samples)
    on_land = where.ravel() != OUTSIDE
    counts = np.zeros((n * n, n))
    np.add.at(counts, (pair[on_land], where.ravel()[on_land]), 1.0)
    totals = counts.sum(axis=1)
    empty = totals == 0
    counts[empty, home[empty]] += 0.5
    counts[empty, work[empty]] += 0.5
    same = np.flatnonzero(home == work)
    counts[same] = 0.0
    counts[same, home[same]] = 1.0
    return counts / counts.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class RoadPoints:
    """Points every ~1 km along a road, with the municipality under each."""

    easting_m: np.ndarray
    northing_m: np.ndarray
    municipality: np.ndarray  # OUTSIDE where the point is not on the region's land
    length_km: float  # length of the whole polyline


def road_points(
    world: World, lat: tuple[float, ...], lon: tuple[float, ...], spacing_km: float = 1.0
) -> RoadPoints:
    """Sample the polyline through (lat, lon) waypoints every ``spacing_km``."""
    easting, northing = lonlat_to_utm33(np.asarray(lon), np.asarray(lat))
    legs = np.hypot(np.diff(easting), np.diff(northing)) / 1000.0
    length = float(legs.sum())
    count = max(1, int(round(length / spacing_km)))
    along = (np.arange(count) + 0.5) * length / count
    cumulative = np.concatenate([[0.0], np.cumsum(legs)])
    e = np.interp(along, cumulative, easting)
    n = np.interp(along, cumulative, northing)
    return RoadPoints(e, n, municipality_at(world, e, n), length)


def km_by_municipality(points: RoadPoints, n_municipalities: int) -> np.ndarray:
    """Road km inside each municipality (points on land only)."""
    on_land = points.municipality != OUTSIDE
    per_point = points.length_km / max(1, len(points.municipality))
    return np.bincount(points.municipality[on_land], minlength=n_municipalities) * per_point
