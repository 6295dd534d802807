"""Zones and zone-to-zone generalised travel-time skims (minutes, float32).

Zones are squares of ``size_cells`` x ``size_cells`` land cells of the 1 km grid: the cells
whose ``(cell_x // size_cells, cell_y // size_cells)`` agree form a zone. A zone's centroid
is the weighted mean of its cells' centres (weights: land share by default, population
later); its municipality is the one holding most of its land (so it does not move when the
centroid weights change).

Modes (peak period, door to door):

* ``car``: straight line x detour, speed by distance band, times a congestion multiplier
  when the trip passes near Oslo centre, plus terminal and parking time; ``car_offpeak``
  without congestion and inner parking search;
* ``pt``: the faster of ``pt_local`` (bus/tram/metro approximated by distance, detour and a
  density-dependent speed and wait) and ``pt_rail`` (access to one of the nearest stations,
  wait, rail in-vehicle and transfer penalties, egress);
* ``bike`` and ``walk``: distance x detour / speed; ``inf`` above the cap (not offered).

Intrazonal trips cover half the zone size. Everything is vectorised over blocks of origins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from model.bundle import Bundle
from model.parameters import ParameterError, parameter_file
from model.transport.network import (
    RAIL_RANGES,
    RailNetwork,
    RailParameters,
    build_rail_network,
    rail_route,
    station_times_min,
    station_wait_min,
)
from model.world import CELL_SIZE_M, World

M_PER_KM = 1000.0
MIN_PER_H = 60.0
_BLOCK_ROWS = 512  # origins per block: a block of 3 400 destinations is ~14 MB in float64
MODES = ("car", "car_offpeak", "pt", "pt_local", "pt_rail", "bike", "walk")


@dataclass(frozen=True)
class ZoneParameters:
    """Zone size (transport.toml [zones])."""

    size_cells: int


@dataclass(frozen=True)
class CarParameters:
    """Car speeds, congestion and terminal times (transport.toml [car])."""

    detour_factor: float
    band_upper_km: tuple[float, ...]
    band_speed_kmh: tuple[float, ...]
    congestion_centre_municipality: str
    inner_radius_km: float
    inner_peak_multiplier: float
    ring_radius_km: float
    ring_peak_multiplier: float
    terminal_min: float
    inner_parking_min: float


@dataclass(frozen=True)
class LocalTransitParameters:
    """Bus/tram/metro approximation (transport.toml [local_transit])."""

    detour_factor: float
    density_thresholds_per_km2: tuple[float, ...]
    speed_kmh: tuple[float, ...]
    wait_min: tuple[float, ...]
    long_distance_from_km: float
    long_distance_speed_kmh: float


@dataclass(frozen=True)
class AccessParameters:
    """Getting from a zone centroid to a station (transport.toml [access])."""

    nearest_stations: int
    detour_factor: float
    walk_speed_kmh: float
    feeder_speed_kmh: float
    feeder_wait_min: float


@dataclass(frozen=True)
class ActiveParameters:
    """Walking and cycling (transport.toml [active])."""

    detour_factor: float
    walk_speed_kmh: float
    walk_max_km: float
    bike_speed_kmh: float
    bike_max_km: float


@dataclass(frozen=True)
class PublishedTimes:
    """Published Oslo S -> town times for the plausibility table (transport.toml)."""

    rail_min: dict[str, float]
    car_min: dict[str, float]


def _inconsistent(path: Path, where: str, allowed: str) -> ParameterError:
    """A ParameterError naming the file, the field and what is allowed."""
    return ParameterError(f"{path}: field '{where}' is inconsistent; allowed: {allowed}")


def _check_speed_classes(params: TransportParameters, path: Path) -> None:
    """One car speed more than distance bands; one transit speed and wait per density class."""
    car, local = params.car, params.local_transit
    if len(car.band_speed_kmh) != len(car.band_upper_km) + 1 or min(car.band_speed_kmh) <= 0:
        raise _inconsistent(path, "car.band_speed_kmh", "one positive speed more than bands")
    n_classes = len(local.density_thresholds_per_km2) + 1
    if len(local.speed_kmh) != n_classes or len(local.wait_min) != n_classes:
        raise _inconsistent(path, "local_transit.speed_kmh", "one value per density class")


_POSITIVE = (0.0, float("inf"), False)


@parameter_file(
    "transport.toml",
    ranges={
        "zones.size_cells": (1, 50, True),
        "car.detour_factor": (1.0, 3.0, True),
        "car.inner_peak_multiplier": (1.0, 5.0, True),
        "car.ring_peak_multiplier": (1.0, 5.0, True),
        "car.terminal_min": (0.0, 60.0, True),
        "local_transit.detour_factor": (1.0, 3.0, True),
        "local_transit.long_distance_speed_kmh": _POSITIVE,
        "access.nearest_stations": (1, 50, True),
        "access.walk_speed_kmh": _POSITIVE,
        "access.feeder_speed_kmh": _POSITIVE,
        "active.walk_speed_kmh": _POSITIVE,
        "active.bike_speed_kmh": _POSITIVE,
        **{f"rail.{where}": allowed for where, allowed in RAIL_RANGES.items()},
    },
    check=_check_speed_classes,
)
@dataclass(frozen=True)
class TransportParameters:
    """All parameters of the skims."""

    zones: ZoneParameters
    car: CarParameters
    local_transit: LocalTransitParameters
    access: AccessParameters
    active: ActiveParameters
    rail: RailParameters
    published: PublishedTimes


@dataclass(frozen=True)
class Zones:
    """5 km zones of land cells."""

    cell_zone: np.ndarray  # int32 zone of every land cell
    easting_m: np.ndarray  # weighted centroid of each zone's land cells
    northing_m: np.ndarray
    municipality: np.ndarray  # int16 municipality index holding most of the zone's land
    land_km2: np.ndarray  # sum of land shares of the zone's cells
    grid_x: np.ndarray  # zone column and row (cell_x // size, cell_y // size)
    grid_y: np.ndarray
    size_km: float

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return len(self.easting_m)


def build_zones(world: World, size_cells: int = 5, cell_weights: np.ndarray | None = None) -> Zones:
    """Group land cells into squares of ``size_cells`` cells; weights default to land share."""
    weights = world.cell_land_share if cell_weights is None else np.asarray(cell_weights, float)
    zx, zy = world.cell_x // size_cells, world.cell_y // size_cells
    keys, cell_zone = np.unique(zx.astype(np.int64) * 1_000_000 + zy, return_inverse=True)
    n = len(keys)
    easting, northing = world.cell_centre_m()
    land = np.bincount(cell_zone, world.cell_land_share, n)
    total = np.bincount(cell_zone, weights, n)
    fallback = np.bincount(cell_zone, minlength=n).astype(float)  # zones without weight
    use = total > 0
    w = np.where(use[cell_zone], weights, 1.0)
    norm = np.where(use, total, fallback)
    land_by_municipality = np.zeros((n, world.n_municipalities))
    np.add.at(land_by_municipality, (cell_zone, world.cell_municipality), world.cell_land_share)
    return Zones(
        cell_zone=cell_zone.astype(np.int32),
        easting_m=np.bincount(cell_zone, w * easting, n) / norm,
        northing_m=np.bincount(cell_zone, w * northing, n) / norm,
        municipality=land_by_municipality.argmax(axis=1).astype(np.int16),
        land_km2=land,
        grid_x=(keys // 1_000_000).astype(np.int32),
        grid_y=(keys % 1_000_000).astype(np.int32),
        size_km=size_cells * CELL_SIZE_M / M_PER_KM,
    )


@dataclass(frozen=True)
class Skims:
    """Zone arrays and zone x zone generalised travel times in minutes, by mode."""

    zones: Zones
    municipality_codes: tuple[str, ...]
    rail: RailNetwork
    rail_station_min: np.ndarray  # station x station in-vehicle + transfer + wait minutes
    matrices: dict[str, np.ndarray] = field(default_factory=dict)  # mode -> float32 Z x Z


def build_skims(
    world: World,
    bundle: Bundle,
    params: TransportParameters,
    cell_weights: np.ndarray | None = None,
    network: RailNetwork | None = None,
) -> Skims:
    """Zones, the rail network and the skims of every mode (``network`` overrides the rail)."""
    zones = build_zones(world, params.zones.size_cells, cell_weights)
    rail = build_rail_network(bundle, params.rail) if network is None else network
    station_min = station_times_min(rail) + station_wait_min(rail, params.rail)
    density = _zone_density_per_km2(world, bundle, zones)
    centre = _congestion_centre(world, params.car)
    n = zones.n_zones
    matrices = {mode: np.empty((n, n), np.float32) for mode in MODES}
    access_station, access_min = _station_access(zones, rail, params.access)
    for start in range(0, n, _BLOCK_ROWS):
        rows = slice(start, min(start + _BLOCK_ROWS, n))
        distance_km = _distance_km(zones, rows)
        matrices["car"][rows], matrices["car_offpeak"][rows] = _car_min(
            zones, rows, distance_km, centre, params.car
        )
        local = _local_transit_min(density, rows, distance_km, params.local_transit)
        by_rail = _rail_min(access_station, access_min, station_min, rows)
        matrices["pt_local"][rows] = local
        matrices["pt_rail"][rows] = by_rail
        matrices["pt"][rows] = np.minimum(local, by_rail)
        matrices["bike"][rows], matrices["walk"][rows] = active_min(distance_km, params.active)
    return Skims(zones, tuple(world.codes), rail, station_min, matrices)


def _distance_km(zones: Zones, rows: slice) -> np.ndarray:
    """Straight-line km from the origins ``rows`` to every zone; intrazonal = half a side."""
    d = (
        np.hypot(
            zones.easting_m[rows, None] - zones.easting_m[None, :],
            zones.northing_m[rows, None] - zones.northing_m[None, :],
        )
        / M_PER_KM
    )
    origins = np.arange(zones.n_zones)[rows]
    d[np.arange(len(origins)), origins] = zones.size_km / 2
    return d


def _banded_min(
    road_km: np.ndarray, upper_km: tuple[float, ...], speed_kmh: tuple[float, ...]
) -> np.ndarray:
    """Minutes to cover ``road_km`` when each distance band has its own speed."""
    edges = np.array((0.0, *upper_km, np.inf))
    minutes = np.zeros_like(road_km)
    for low, high, speed in zip(edges[:-1], edges[1:], speed_kmh, strict=True):
        minutes += np.clip(road_km - low, 0.0, high - low) / speed * MIN_PER_H
    return minutes


def _congestion_centre(world: World, car: CarParameters) -> tuple[float, float] | None:
    """Easting and northing of the congestion centre, or None if outside the region."""
    if car.congestion_centre_municipality not in world.codes:
        return None
    i = world.codes.index(car.congestion_centre_municipality)
    return float(world.centre_easting_m[i]), float(world.centre_northing_m[i])


def _segment_distance_km(zones: Zones, rows: slice, point: tuple[float, float]) -> np.ndarray:
    """Km from ``point`` to the straight segment of every origin-destination pair."""
    ox, oy = zones.easting_m[rows, None], zones.northing_m[rows, None]
    dx, dy = zones.easting_m[None, :] - ox, zones.northing_m[None, :] - oy
    length2 = np.maximum(dx * dx + dy * dy, 1.0)
    t = np.clip(((point[0] - ox) * dx + (point[1] - oy) * dy) / length2, 0.0, 1.0)
    return np.hypot(ox + t * dx - point[0], oy + t * dy - point[1]) / M_PER_KM


def _car_min(
    zones: Zones,
    rows: slice,
    distance_km: np.ndarray,
    centre: tuple[float, float] | None,
    car: CarParameters,
) -> tuple[np.ndarray, np.ndarray]:
    """Peak and off-peak car minutes for the origins ``rows``."""
    free_flow = _banded_min(distance_km * car.detour_factor, car.band_upper_km, car.band_speed_kmh)
    offpeak = free_flow + car.terminal_min
    if centre is None:
        return offpeak, offpeak
    passing_km = _segment_distance_km(zones, rows, centre)
    multiplier = np.where(
        passing_km <= car.inner_radius_km,
        car.inner_peak_multiplier,
        np.where(passing_km <= car.ring_radius_km, car.ring_peak_multiplier, 1.0),
    )
    inner_destination = (
        np.hypot(zones.easting_m - centre[0], zones.northing_m - centre[1]) / M_PER_KM
        <= car.inner_radius_km
    )
    peak = free_flow * multiplier + car.terminal_min + car.inner_parking_min * inner_destination
    return peak, offpeak


def _zone_density_per_km2(world: World, bundle: Bundle, zones: Zones) -> np.ndarray:
    """Persons per km2 of the zone's municipality (a proxy until zones hold population)."""
    municipalities = bundle["municipalities.csv"].set_index("kommunenummer").loc[list(world.codes)]
    density = municipalities["population"].to_numpy(float) / municipalities["area_km2"].to_numpy(
        float
    )
    return density[zones.municipality]


def _local_transit_min(
    density: np.ndarray, rows: slice, distance_km: np.ndarray, local: LocalTransitParameters
) -> np.ndarray:
    """Bus/tram/metro minutes: the less urban end sets the wait, the two ends' mean speed."""
    urban_class = np.searchsorted(local.density_thresholds_per_km2, density, side="right")
    speed = np.asarray(local.speed_kmh)[urban_class]
    wait = np.asarray(local.wait_min)[urban_class]
    road_km = distance_km * local.detour_factor
    trip_speed = 0.5 * (speed[rows, None] + speed[None, :])
    near_km = np.minimum(road_km, local.long_distance_from_km)
    far_km = road_km - near_km
    in_vehicle = (near_km / trip_speed + far_km / local.long_distance_speed_kmh) * MIN_PER_H
    return in_vehicle + np.maximum(wait[rows, None], wait[None, :])


def _station_access(
    zones: Zones, rail: RailNetwork, access: AccessParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest stations of every zone and the minutes to reach them (walk or feeder)."""
    k = min(access.nearest_stations, rail.n_stations)
    d_km = (
        np.hypot(
            zones.easting_m[:, None] - rail.station_easting_m[None, :],
            zones.northing_m[:, None] - rail.station_northing_m[None, :],
        )
        / M_PER_KM
    )
    nearest = np.argpartition(d_km, k - 1, axis=1)[:, :k]
    road_km = np.take_along_axis(d_km, nearest, axis=1) * access.detour_factor
    walk = road_km / access.walk_speed_kmh * MIN_PER_H
    feeder = access.feeder_wait_min + road_km / access.feeder_speed_kmh * MIN_PER_H
    return nearest, np.minimum(walk, feeder)


def _rail_min(
    access_station: np.ndarray, access_min: np.ndarray, station_min: np.ndarray, rows: slice
) -> np.ndarray:
    """Min over nearest boarding and alighting stations of access + rail + egress."""
    rail = station_min.copy()
    np.fill_diagonal(rail, np.inf)  # walking via one station is not a rail trip
    best = np.full((access_station[rows].shape[0], access_station.shape[0]), np.inf)
    for a in range(access_station.shape[1]):
        for e in range(access_station.shape[1]):
            leg = rail[np.ix_(access_station[rows, a], access_station[:, e])]
            np.minimum(best, access_min[rows, a, None] + leg + access_min[None, :, e], out=best)
    return best


def active_min(distance_km: np.ndarray, active: ActiveParameters) -> tuple[np.ndarray, np.ndarray]:
    """Bike and walk minutes; inf above the caps."""
    road_km = distance_km * active.detour_factor
    bike = np.where(
        road_km <= active.bike_max_km, road_km / active.bike_speed_kmh * MIN_PER_H, np.inf
    )
    walk = np.where(
        road_km <= active.walk_max_km, road_km / active.walk_speed_kmh * MIN_PER_H, np.inf
    )
    return bike, walk


def travel_time_min(
    skims: Skims, mode: str, origin_zone: int | np.ndarray, destination_zone: int | np.ndarray
) -> np.ndarray | np.float32:
    """Minutes by ``mode`` between zones (ints or arrays, broadcast like numpy)."""
    if mode not in skims.matrices:
        raise KeyError(f"mode '{mode}' is unknown; allowed: {', '.join(skims.matrices)}")
    return skims.matrices[mode][origin_zone, destination_zone]


def municipality_skims(
    skims: Skims, weights: np.ndarray | None = None, modes: tuple[str, ...] = MODES
) -> dict[str, np.ndarray]:
    """Municipality x municipality minutes: weighted means over zone pairs (weights: land).

    Pairs where a mode is not offered (``inf``) are left out of the mean; a municipality pair
    with no offered zone pair stays ``inf``.
    """
    zones = skims.zones
    w = zones.land_km2 if weights is None else np.asarray(weights, float)
    n_municipalities = len(skims.municipality_codes)
    member = np.zeros((n_municipalities, zones.n_zones))
    member[zones.municipality, np.arange(zones.n_zones)] = w
    result = {}
    for mode in modes:
        matrix = skims.matrices[mode].astype(float)
        finite = np.isfinite(matrix)
        total = member @ np.where(finite, matrix, 0.0) @ member.T
        weight = member @ finite @ member.T
        with np.errstate(invalid="ignore", divide="ignore"):
            result[mode] = np.where(weight > 0, total / weight, np.inf).astype(np.float32)
    return result


def zone_of_point(skims: Skims, world: World, easting_m: float, northing_m: float) -> int:
    """The zone of the land cell nearest to a point (e.g. a station or a town centre)."""
    easting, northing = world.cell_centre_m()
    cell = int(np.argmin(np.hypot(easting - easting_m, northing - northing_m)))
    return int(skims.zones.cell_zone[cell])


def plausibility_table(skims: Skims, world: World, params: TransportParameters) -> pd.DataFrame:
    """Oslo S to six towns by rail and car beside the published times.

    Rail is station to station (in-vehicle, and with the boarding wait); car and public
    transport are zone to zone between the zones of the two stations. Published times are
    in ``transport.toml [published]``.
    """
    rail = skims.rail
    oslo = rail.station_index("Oslo S")
    rows = []
    for town, published_rail in params.published.rail_min.items():
        station = rail.station_index(town)
        route = rail_route(rail, "Oslo S", town)
        origin = zone_of_point(
            skims, world, rail.station_easting_m[oslo], rail.station_northing_m[oslo]
        )
        destination = zone_of_point(
            skims, world, rail.station_easting_m[station], rail.station_northing_m[station]
        )
        rows.append(
            {
                "to": town,
                "rail_in_vehicle_min": round(route.in_vehicle_min, 1),
                "rail_with_wait_min": round(float(skims.rail_station_min[oslo, station]), 1),
                "rail_published_min": published_rail,
                "rail_ratio": round(route.in_vehicle_min / published_rail, 2),
                "car_offpeak_min": round(
                    float(skims.matrices["car_offpeak"][origin, destination]), 1
                ),
                "car_peak_min": round(float(skims.matrices["car"][origin, destination]), 1),
                "car_published_min": params.published.car_min.get(town, np.nan),
                "pt_zone_min": round(float(skims.matrices["pt"][origin, destination]), 1),
            }
        )
    table = pd.DataFrame(rows)
    table["car_ratio"] = (table["car_offpeak_min"] / table["car_published_min"]).round(2)
    return table
