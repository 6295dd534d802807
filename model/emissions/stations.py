"""Energy stations on the map: siting rules, coverage of truck routes, demand and the grid.

Heavy vehicles drive in route groups (``HeavyRoutes``): one local fleet per municipality,
its km spread over the cells where the freight jobs are, and one through fleet per
corridor, its km spread along the road. Coverage of a group by a carrier is the share of its
km within reach of an operating station offering the carrier, weighted by each station's
availability (see ``agents.energy_station``), combined with the existing coverage of depots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.energy_station import EnergyStation
from model.emissions.geometry import OUTSIDE, RoadPoints
from model.emissions.parameters import STATION_CARRIERS, StationParameters, StationSpec
from model.geo import lonlat_to_utm33
from model.world import World

# Job sectors whose heavy-vehicle km mark a logistics hub.
HUB_SECTORS = ("transport_storage", "wholesale_retail", "construction")


@dataclass(frozen=True)
class StationPlan:
    """A station a scenario asks for: where, what, how big and from when."""

    name: str
    lat: float
    lon: float
    start_year: int
    spec: StationSpec


@dataclass(frozen=True)
class EnergyLevers:
    """Scenario levers of energy stations, the grid and climate targets."""

    stations: tuple[StationPlan, ...] = ()
    station_count: int = 0
    siting: str = "corridors"
    siting_start_year: int = 2026
    headroom_mw: dict[str, float] = field(default_factory=dict)
    headroom_growth_per_year: float | None = None
    climate_targets: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = field(
        default_factory=dict
    )


class SitingError(ValueError):
    """A station cannot be placed (outside the region's land)."""


def site_cell(world: World, lat: float, lon: float, name: str) -> int:
    """The land cell nearest to (lat, lon), within 2 km; refuse a site off the region."""
    easting, northing = lonlat_to_utm33(np.array([lon]), np.array([lat]))
    centre_e, centre_n = world.cell_centre_m()
    distance = np.hypot(centre_e - easting[0], centre_n - northing[0])
    cell = int(np.argmin(distance))
    if distance[cell] > 2000.0:
        raise SitingError(
            f"energy station '{name}' at lat {lat}, lon {lon} is {distance[cell] / 1000:.0f} km "
            "from the region's nearest land cell; allowed: a site on the region's land"
        )
    return cell


def corridor_sites(world: World, corridors: list[RoadPoints], count: int) -> list[int]:
    """``count`` cells evenly spaced along the corridors, in proportion to their length."""
    if count <= 0:
        return []
    on_land = [points.municipality != OUTSIDE for points in corridors]
    lengths = np.array([mask.sum() for mask in on_land], dtype=float)
    quota = lengths / lengths.sum() * count
    per_corridor = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - per_corridor), kind="stable")[: count - per_corridor.sum()]:
        per_corridor[i] += 1
    centre_e, centre_n = world.cell_centre_m()
    cells: list[int] = []
    for points, mask, k in zip(corridors, on_land, per_corridor, strict=True):
        e, n = points.easting_m[mask], points.northing_m[mask]
        for j in range(k):
            p = int((j + 0.5) * len(e) / k)
            cells.append(int(np.argmin(np.hypot(centre_e - e[p], centre_n - n[p]))))
    return cells


def hub_sites(
    world: World,
    hub_km_per_cell: np.ndarray,
    count: int,
    separation_km: float,
    allowed_municipality: np.ndarray | None = None,
) -> list[int]:
    """The ``count`` cells with most hub freight km, at least ``separation_km`` apart."""
    centre_e, centre_n = world.cell_centre_m()
    score = np.asarray(hub_km_per_cell, dtype=float).copy()
    if allowed_municipality is not None:
        score[~allowed_municipality[world.cell_municipality]] = 0.0
    cells: list[int] = []
    for cell in np.argsort(-score, kind="stable"):
        if len(cells) == count or score[cell] <= 0:
            break
        if all(
            np.hypot(centre_e[cell] - centre_e[c], centre_n[cell] - centre_n[c]) / 1000.0
            >= separation_km
            for c in cells
        ):
            cells.append(int(cell))
    return cells


@dataclass(frozen=True)
class HeavyRoutes:
    """Route points of every heavy-vehicle group with their share of the group's km."""

    easting_m: np.ndarray
    northing_m: np.ndarray
    group: np.ndarray  # group index of each point
    weight: np.ndarray  # share of the group's km at the point (sums to 1 per group)
    reach_km: np.ndarray  # reach of a station for the point's group
    local: np.ndarray  # True for points of municipal (local) groups
    n_groups: int


def heavy_routes(
    world: World,
    heavy_km_per_cell: np.ndarray,
    corridors: list[RoadPoints],
    params: StationParameters,
) -> HeavyRoutes:
    """Groups 0..n-1: each municipality's local trucks; n..: each corridor's through trucks."""
    n = world.n_municipalities
    centre_e, centre_n = world.cell_centre_m()
    km = np.asarray(heavy_km_per_cell, dtype=float)
    cells = np.flatnonzero(km > 0)
    totals = np.bincount(world.cell_municipality[cells], km[cells], n)
    # A municipality without freight jobs gets its cells weighted evenly.
    empty = np.flatnonzero(totals == 0)
    extra = np.flatnonzero(np.isin(world.cell_municipality, empty))
    weight_local = np.concatenate(
        [km[cells] / totals[world.cell_municipality[cells]], np.zeros(len(extra))]
    )
    cells = np.concatenate([cells, extra])
    if len(extra):
        count = np.bincount(world.cell_municipality[extra], minlength=n)
        weight_local[-len(extra) :] = 1.0 / count[world.cell_municipality[extra]]
    parts_e, parts_n = [centre_e[cells]], [centre_n[cells]]
    groups = [world.cell_municipality[cells].astype(np.int64)]
    weights = [weight_local]
    for i, points in enumerate(corridors):
        mask = points.municipality != OUTSIDE
        parts_e.append(points.easting_m[mask])
        parts_n.append(points.northing_m[mask])
        groups.append(np.full(mask.sum(), n + i))
        weights.append(np.full(mask.sum(), 1.0 / max(1, mask.sum())))
    group = np.concatenate(groups)
    local = group < n
    return HeavyRoutes(
        easting_m=np.concatenate(parts_e),
        northing_m=np.concatenate(parts_n),
        group=group,
        weight=np.concatenate(weights),
        reach_km=np.where(local, params.local_reach_km, params.corridor_reach_km),
        local=local,
        n_groups=n + len(corridors),
    )


def coverage(
    routes: HeavyRoutes, stations: list[EnergyStation], carrier: str, existing: np.ndarray
) -> np.ndarray:
    """Coverage of every group by ``carrier``: existing combined with the stations in reach."""
    best = np.zeros(len(routes.group))
    for station in stations:
        if carrier not in station.carriers or not station.operating:
            continue
        distance = np.hypot(
            routes.easting_m - station.easting_m, routes.northing_m - station.northing_m
        )
        in_reach = distance / 1000.0 <= routes.reach_km
        best = np.where(in_reach, np.maximum(best, station.availability), best)
    covered = np.bincount(routes.group, routes.weight * best, routes.n_groups)
    return 1.0 - (1.0 - existing) * (1.0 - np.clip(covered, 0.0, 1.0))


def station_demand(
    routes: HeavyRoutes,
    stations: list[EnergyStation],
    carrier: str,
    public_demand_by_group: np.ndarray,
) -> np.ndarray:
    """Demand routed to each station: each route point's share goes to its nearest station.

    ``public_demand_by_group`` is what each group's trucks buy at public stations (MWh or
    kg); the share at points out of reach of any station is not served (trucks fill up
    elsewhere or at depots).
    """
    usable = [s for s in stations if s.operating and carrier in s.carriers]
    served = np.zeros(len(stations))
    if not usable:
        return served
    distance = np.stack(
        [
            np.hypot(routes.easting_m - s.easting_m, routes.northing_m - s.northing_m) / 1000.0
            for s in usable
        ]
    )
    nearest = np.argmin(distance, axis=0)
    reachable = distance[nearest, np.arange(len(nearest))] <= routes.reach_km
    amount = routes.weight * np.asarray(public_demand_by_group)[routes.group] * reachable
    per_usable = np.bincount(nearest, amount, len(usable))
    index = {id(s): i for i, s in enumerate(stations)}
    for k, station in enumerate(usable):
        served[index[id(station)]] = per_usable[k]
    return served


def carriers_of(stations: list[EnergyStation]) -> tuple[str, ...]:
    """The station carriers, in the fixed order of ``STATION_CARRIERS``."""
    present = {c for s in stations for c in s.carriers}
    return tuple(c for c in STATION_CARRIERS if c in present)
