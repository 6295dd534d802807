"""Zoning: how many more dwellings each land cell may receive, as a column table.

Municipalities zone land; here their plans are condensed into one number per 1 km land cell,
``capacity_dwellings``: the dwellings that may still be built there beyond today's stock
(full-population units). Developers (``model/construction.py``) use it up; municipalities
renew it each year from their plan (``agents.municipality.Municipality.renew_zoning``).

The default rule of :func:`initial_zoning`, per land cell with ``n`` dwellings today:

- a *settled* cell may grow by ``densification_share * n`` plus
  ``densification_floor_dwellings`` (infill and transformation of built areas); a cell is
  settled when the mean stock of the land cells in its 3 x 3 window (itself and its 8
  neighbours) is at least ``settled_min_dwellings``;
- an unsettled cell next to a settled one (Moore neighbourhood, the 8 surrounding cells)
  is greenfield land zoned for ``greenfield_dwellings_per_km2 * land_share`` dwellings
  (the next ring of a town's growth);
- every other cell gets nothing (land, nature and outdoor-recreation areas, LNF);
- a municipality's cells are then multiplied by its ``capacity_factor`` (1 where none is
  given): municipalities that build fast hold larger reserves in their plans than the
  uniform rule gives them, and the calibration raises the factor where the rule's
  capacity could not carry the municipality's 2015-2023 pace of construction.

"Settled" is a smoothed density threshold rather than "has any dwelling" so that zoning is
the same at every scale. At a scale below 1 whether a sparse cell holds a dwelling row
depends on the sample (at scale 0.05, 11 849 of the 31 913 land cells hold a row, at scale
1.0 29 334), and a threshold on a single cell's sampled stock is noisy; the 3 x 3 mean
gives 3 327 settled cells at scale 1.0 and 3 347 at 0.05. ``built_up`` keeps the plain
meaning, "the cell holds at least one dwelling", which is what area neutrality counts.

Scenario levers (see ``model.construction.ConstructionLevers``):

- station densification: every land cell whose centre lies within ``radius_km`` of an active
  rail station gets ``extra_dwellings_per_cell * land_share`` more capacity;
- multi-core steering: the *centre cells* of the named regional towns (cells of the town's
  municipality within ``multi_core_centre_radius_km`` of its administrative centre) get at
  least the greenfield capacity, and their capacity is then multiplied by the one factor that
  makes them hold ``share`` of the region's total capacity (if they hold less already);
  other cells keep theirs;
- area neutrality is not a zoning rule but a yearly cap on newly built-up cells, applied by
  the construction step.

This module does not import ``model/``: the world and the levers are passed in and only the
attributes named in :class:`ZoningWorld` and :class:`ZoningLevers` are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model.parameters import municipal_values
from model.world import window_sum

M_PER_KM = 1000.0


class ZoningWorld(Protocol):
    """The parts of the model's ``World`` that zoning reads."""

    codes: tuple[str, ...]
    width: int
    height: int
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_municipality: np.ndarray
    cell_land_share: np.ndarray
    centre_easting_m: np.ndarray
    centre_northing_m: np.ndarray
    station_names: tuple[str, ...]
    station_easting_m: np.ndarray
    station_northing_m: np.ndarray

    def cell_centre_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Easting and northing of every land cell's centre, metres."""
        ...


class ZoningLevers(Protocol):
    """The scenario levers that shape zoning (``model.construction.ConstructionLevers``)."""

    station_densification_radius_km: float | None
    station_densification_extra_dwellings_per_cell: float
    station_densification_stations: tuple[str, ...]
    multi_core_towns: tuple[str, ...]
    multi_core_share: float


@dataclass(frozen=True)
class ZoningParameters:
    """The default zoning rule (see data/parameters/construction.toml [zoning])."""

    settled_min_dwellings: float
    densification_share: float
    densification_floor_dwellings: float
    greenfield_dwellings_per_km2: float
    multi_core_centre_radius_km: float
    renewal_share_per_year: float
    capacity_factor: dict[str, float]  # by municipality number; 1 where not named


@dataclass
class Zoning:
    """One row per land cell of the world (the row is the cell id)."""

    capacity_dwellings: np.ndarray  # float64, dwellings still allowed (full-population units)
    built_up: np.ndarray  # bool, the cell holds at least one dwelling
    planned_dwellings: np.ndarray  # float64, the capacity of the municipal plan (base year)

    def __len__(self) -> int:
        return len(self.capacity_dwellings)


def initial_zoning(
    world: ZoningWorld,
    dwellings_per_cell: np.ndarray,
    params: ZoningParameters,
    levers: ZoningLevers,
    built_up: np.ndarray | None = None,
) -> Zoning:
    """The base-year zoning of every land cell under the default rule and the levers.

    ``dwellings_per_cell`` is the dwelling stock of every land cell in full-population units
    (the model passes the expected stock, the same at every scale); ``built_up`` marks the
    cells that hold a dwelling (default: those with a stock above 0).
    """
    dwellings_per_cell = np.asarray(dwellings_per_cell, dtype=float)
    settled = neighbourhood_mean(world, dwellings_per_cell) >= params.settled_min_dwellings
    greenfield = ~settled & _next_to(world, settled)
    greenfield_capacity = params.greenfield_dwellings_per_km2 * world.cell_land_share
    capacity = np.where(
        settled,
        params.densification_share * dwellings_per_cell + params.densification_floor_dwellings,
        np.where(greenfield, greenfield_capacity, 0.0),
    )
    factor = municipal_values(params.capacity_factor, world.codes, default=1.0)
    capacity = capacity * factor[world.cell_municipality]
    radius_km = levers.station_densification_radius_km
    if radius_km is not None and levers.station_densification_extra_dwellings_per_cell > 0:
        near = cells_near_stations(world, radius_km, levers.station_densification_stations)
        extra = levers.station_densification_extra_dwellings_per_cell * world.cell_land_share
        capacity = capacity + np.where(near, extra, 0.0)
    if levers.multi_core_towns and levers.multi_core_share > 0:
        centre = town_centre_cells(world, levers.multi_core_towns, params)
        capacity = _steer_to_towns(capacity, centre, greenfield_capacity, levers.multi_core_share)
    return Zoning(
        capacity_dwellings=capacity,
        built_up=dwellings_per_cell > 0 if built_up is None else np.asarray(built_up, bool),
        planned_dwellings=capacity.copy(),
    )


def cells_near_stations(
    world: ZoningWorld, radius_km: float, stations: tuple[str, ...] = ()
) -> np.ndarray:
    """True for land cells whose centre lies within ``radius_km`` of an active rail station.

    ``stations`` limits it to the stations of these names (empty: every active station).
    """
    easting, northing = world.cell_centre_m()
    chosen = np.ones(len(world.station_names), dtype=bool)
    if stations:
        unknown = sorted(set(stations) - set(world.station_names))
        if unknown:
            raise ValueError(f"station {unknown[0]!r} is unknown; allowed: an active rail station")
        chosen = np.isin(np.array(world.station_names, dtype=object), list(stations))
    station_e, station_n = world.station_easting_m[chosen], world.station_northing_m[chosen]
    near = np.zeros(len(easting), dtype=bool)
    radius_m = radius_km * M_PER_KM
    for start in range(0, len(easting), 8192):  # blocks keep the distance matrix small
        stop = start + 8192
        d_m = np.hypot(
            easting[start:stop, None] - station_e[None, :],
            northing[start:stop, None] - station_n[None, :],
        )
        near[start:stop] = (d_m <= radius_m).any(axis=1)
    return near


def town_centre_cells(
    world: ZoningWorld, towns: tuple[str, ...], params: ZoningParameters
) -> np.ndarray:
    """True for cells of the named municipalities near their administrative centre.

    Raises ValueError naming the first municipality number that is not in the region.
    """
    index_of = {code: i for i, code in enumerate(world.codes)}
    unknown = [code for code in towns if code not in index_of]
    if unknown:
        raise ValueError(
            f"multi-core town {unknown[0]!r} is not a municipality of the region; "
            f"allowed: {', '.join(world.codes)}"
        )
    town = np.zeros(len(world.codes), dtype=bool)
    town[[index_of[code] for code in towns]] = True
    easting, northing = world.cell_centre_m()
    m = world.cell_municipality
    d_km = (
        np.hypot(easting - world.centre_easting_m[m], northing - world.centre_northing_m[m])
        / M_PER_KM
    )
    return town[m] & (d_km <= params.multi_core_centre_radius_km)


def neighbourhood_mean(world: ZoningWorld, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each cell's 3 x 3 window of land cells (itself included)."""
    return window_sum(world, values) / window_sum(world, np.ones(len(values)))


def _next_to(world: ZoningWorld, flag: np.ndarray) -> np.ndarray:
    """True for cells with at least one flagged cell among their 8 grid neighbours."""
    grid = np.zeros((world.width + 2, world.height + 2), dtype=bool)
    grid[world.cell_x + 1, world.cell_y + 1] = flag
    neighbour = np.zeros_like(flag, dtype=bool)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                neighbour |= grid[world.cell_x + 1 + dx, world.cell_y + 1 + dy]
    return neighbour


def _steer_to_towns(
    capacity: np.ndarray, centre: np.ndarray, floor: np.ndarray, share: float
) -> np.ndarray:
    """Multiply the centre cells' capacity so that they hold at least ``share`` of it all."""
    capacity = capacity.copy()
    capacity[centre] = np.maximum(capacity[centre], floor[centre])
    in_towns = capacity[centre].sum()
    elsewhere = capacity.sum() - in_towns
    if in_towns <= 0 or share >= 1.0 or in_towns >= share * (in_towns + elsewhere):
        return capacity
    capacity[centre] *= share * elsewhere / ((1.0 - share) * in_towns)
    return capacity
