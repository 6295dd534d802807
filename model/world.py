"""The world: the region's municipalities, its 1 km land cells, centres and rail stations.

Cells come from the bundle's ``grid_cells_1km.csv`` (municipality polygons rasterized onto
1 km cells in EPSG:25833 by ``data/prepare/``). The world keeps the land cells of the chosen
municipalities as flat arrays (a cell id is a row of those arrays) and knows where each cell
sits on the rectangular grid that the Mesa ``OrthogonalMooreGrid`` spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from model.bundle import Bundle, BundleError
from model.geo import lonlat_to_utm33

CELL_SIZE_M = 1000


@dataclass(frozen=True)
class World:
    """Municipalities, land cells, centres and stations of the modelled region."""

    codes: tuple[str, ...]  # municipality numbers; a municipality's index is its position
    names: tuple[str, ...]
    counties: tuple[str, ...]
    area_km2: np.ndarray
    origin_easting_m: int  # south-west corner of grid column 0, row 0
    origin_northing_m: int
    width: int  # grid columns (x, eastwards)
    height: int  # grid rows (y, northwards)
    cell_x: np.ndarray  # int32 grid column of each land cell
    cell_y: np.ndarray  # int32 grid row of each land cell
    cell_municipality: np.ndarray  # int16 municipality index of each land cell
    cell_land_share: np.ndarray  # float share of the cell inside its municipality
    centre_easting_m: np.ndarray  # administrative centre of each municipality
    centre_northing_m: np.ndarray
    station_names: tuple[str, ...]  # active (non-museum) rail stations in the bundle
    station_easting_m: np.ndarray
    station_northing_m: np.ndarray
    station_departures_24h: np.ndarray  # NaN where unknown

    @property
    def n_municipalities(self) -> int:
        """Number of municipalities in the region."""
        return len(self.codes)

    @property
    def n_cells(self) -> int:
        """Number of land cells."""
        return len(self.cell_x)

    def cell_centre_m(self) -> tuple[np.ndarray, np.ndarray]:
        """EPSG:25833 easting and northing of every land cell's centre, in metres."""
        half = CELL_SIZE_M / 2
        easting = self.origin_easting_m + self.cell_x * CELL_SIZE_M + half
        northing = self.origin_northing_m + self.cell_y * CELL_SIZE_M + half
        return easting.astype(float), northing.astype(float)

    def cells_of(self, municipality: int) -> np.ndarray:
        """Land cell ids of one municipality."""
        return np.flatnonzero(self.cell_municipality == municipality)

    def to_grid(self, values_per_cell: np.ndarray, fill: float = 0) -> np.ndarray:
        """Spread a value per land cell onto a (width, height) array indexed [x, y]."""
        grid = np.full((self.width, self.height), fill, dtype=np.asarray(values_per_cell).dtype)
        grid[self.cell_x, self.cell_y] = values_per_cell
        return grid


def build_world(bundle: Bundle, codes: list[str]) -> World:
    """Cut the bundle's grid down to ``codes`` and collect centres and stations."""
    municipalities = bundle["municipalities.csv"].set_index("kommunenummer").loc[codes]
    index_of = {code: i for i, code in enumerate(codes)}

    cells = bundle["grid_cells_1km.csv"]
    cells = cells[cells["kommunenummer"].isin(index_of)]
    easting = cells["easting_m"].to_numpy(np.int64)
    northing = cells["northing_m"].to_numpy(np.int64)
    origin_e, origin_n = int(easting.min()), int(northing.min())

    without_cells = sorted(set(codes) - set(cells["kommunenummer"]))
    if without_cells:
        raise BundleError(
            f"{bundle.path / 'grid_cells_1km.csv'}: column 'kommunenummer' has no cell for "
            f"{without_cells[0]}; every municipality of the region needs land cells"
        )
    centres = bundle["admin_centres.csv"].set_index("kommunenummer").reindex(codes)
    if centres["easting_m"].isna().any():
        missing = centres.index[centres["easting_m"].isna()][0]
        raise BundleError(
            f"{bundle.path / 'admin_centres.csv'}: column 'kommunenummer' has no row for {missing}"
        )
    stations = bundle["rail_stations.csv"]
    stations = stations[~stations["is_museum_railway"]]
    station_e, station_n = lonlat_to_utm33(stations["lon"].to_numpy(), stations["lat"].to_numpy())

    return World(
        codes=tuple(codes),
        names=tuple(municipalities["kommunenavn"]),
        counties=tuple(municipalities["fylke"]),
        area_km2=municipalities["area_km2"].to_numpy(float),
        origin_easting_m=origin_e,
        origin_northing_m=origin_n,
        width=int((easting.max() - origin_e) // CELL_SIZE_M) + 1,
        height=int((northing.max() - origin_n) // CELL_SIZE_M) + 1,
        cell_x=((easting - origin_e) // CELL_SIZE_M).astype(np.int32),
        cell_y=((northing - origin_n) // CELL_SIZE_M).astype(np.int32),
        cell_municipality=cells["kommunenummer"].map(index_of).to_numpy(np.int16),
        cell_land_share=cells["land_share"].to_numpy(float),
        centre_easting_m=centres["easting_m"].to_numpy(float),
        centre_northing_m=centres["northing_m"].to_numpy(float),
        station_names=tuple(stations["station_name"]),
        station_easting_m=station_e,
        station_northing_m=station_n,
        station_departures_24h=stations["departures_24h_snapshot"].to_numpy(float),
    )


class GridCells(Protocol):
    """Where the land cells sit on the grid: what a window over neighbouring cells needs."""

    width: int
    height: int
    cell_x: np.ndarray
    cell_y: np.ndarray
    cell_municipality: np.ndarray


def window_sum(
    world: GridCells,
    values: np.ndarray,
    radius_cells: int = 1,
    within_municipality: bool = False,
) -> np.ndarray:
    """Sum of ``values`` over the land cells of each cell's square window (itself included).

    The window reaches ``radius_cells`` cells each way (1: the 3 x 3 Moore neighbourhood);
    ``within_municipality`` counts only the cells of the cell's own municipality.
    """
    r = int(radius_cells)
    shape = (world.width + 2 * r, world.height + 2 * r)
    x, y = world.cell_x + r, world.cell_y + r
    grid = np.zeros(shape)
    grid[x, y] = values
    if within_municipality:
        owner = np.full(shape, -1, dtype=np.int64)
        owner[x, y] = world.cell_municipality
    total = np.zeros(len(values))
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if within_municipality:
                same = owner[x + dx, y + dy] == world.cell_municipality
                total += np.where(same, grid[x + dx, y + dy], 0.0)
            else:
                total += grid[x + dx, y + dy]
    return total
