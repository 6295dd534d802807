"""Where things go inside a municipality: weights of its land cells.

A cell's weight for dwellings is

    land_share * (floor + exp(-d_centre / L_centre) + station_weight * S),
    S = sum over active rail stations s of strength_s * exp(-d_s / L_station),

with ``d`` the distance in km from the cell centre, ``L_centre`` growing with the square root
of the municipality's population (a town of 10 000 spreads about 0.8 km, Oslo up to 6 km),
and a station's strength its 24-hour departures relative to a local-line station, clipped.
Firms use the same form, more concentrated (see data/parameters/synthesis.toml).
"""

from __future__ import annotations

import numpy as np

from model.parameters import FirmPlacement, Placement
from model.world import World

M_PER_KM = 1000.0


def station_strength(world: World, params: Placement) -> np.ndarray:
    """Attraction of each active station, from its departures per 24 h."""
    departures = world.station_departures_24h
    strength = np.clip(
        departures / params.station_reference_departures_24h,
        params.station_strength_min,
        params.station_strength_max,
    )
    return np.where(np.isnan(departures), params.station_strength_unknown, strength)


def centre_decay_km(population: np.ndarray, params: Placement) -> np.ndarray:
    """Decay length of the centre term for each municipality, km."""
    decay = params.centre_decay_km_per_sqrt_10k_persons * np.sqrt(population / 10_000)
    return np.clip(decay, params.centre_decay_km_min, params.centre_decay_km_max)


def station_access(world: World, params: Placement) -> np.ndarray:
    """The station term S of every land cell (sum of decayed station strengths)."""
    easting, northing = world.cell_centre_m()
    strength = station_strength(world, params)
    access = np.zeros(world.n_cells)
    for start in range(0, world.n_cells, 8192):  # blocks keep the distance matrix small
        stop = start + 8192
        d_km = (
            np.hypot(
                easting[start:stop, None] - world.station_easting_m[None, :],
                northing[start:stop, None] - world.station_northing_m[None, :],
            )
            / M_PER_KM
        )
        access[start:stop] = np.exp(-d_km / params.station_decay_km) @ strength
    return access


def dwelling_cell_weights(world: World, population: np.ndarray, params: Placement) -> np.ndarray:
    """Weight of every land cell for dwellings (compare only within a municipality)."""
    return _weights(
        world,
        centre_decay_km(population, params),
        station_access(world, params),
        params.station_weight,
        params.floor_weight,
    )


def firm_cell_weights(
    world: World, population: np.ndarray, params: Placement, firms: FirmPlacement
) -> np.ndarray:
    """Weight of every land cell for establishments: tighter around centres and stations."""
    return _weights(
        world,
        centre_decay_km(population, params) * firms.centre_decay_factor,
        station_access(world, params),
        firms.station_weight,
        firms.floor_weight,
    )


def _weights(
    world: World,
    decay_km: np.ndarray,
    access: np.ndarray,
    station_weight: float,
    floor_weight: float,
) -> np.ndarray:
    easting, northing = world.cell_centre_m()
    m = world.cell_municipality
    d_centre_km = (
        np.hypot(easting - world.centre_easting_m[m], northing - world.centre_northing_m[m])
        / M_PER_KM
    )
    attraction = floor_weight + np.exp(-d_centre_km / decay_km[m]) + station_weight * access
    return world.cell_land_share * attraction
