"""Construction (design guide step 4): developers build where zoning allows and prices pay.

Each year, for every land cell with zoning capacity left, a developer compares the price a
new dwelling would fetch there with what it costs to build:

    expected price = new_build_price_factor * mean price per m2 of the cell's dwellings
                     (the municipality's mean price for a cell without dwellings)
    margin         = expected price / cost per m2 of the new dwelling's type - 1
                     + margin_shift of the cell's municipality
    built          = build_share_per_year * capacity * clip(margin / full_pace_margin, 0, 1)

The municipal margin shift stands for what the region-wide costs miss locally (cheaper land
and self-build in rural municipalities); calibration solves it so that base-year
construction follows each municipality's 2015-2023 net additions (SSB 06265).

Nothing is built where the margin is not positive; at ``full_pace_margin`` and above a cell
builds ``build_share_per_year`` of its remaining capacity. The new dwellings' type follows
the cell's density (apartment blocks in dense cells, row houses in medium, detached houses
in sparse ones). They are appended to the ``Dwellings`` table as vacant rows; at a scale
below 1 a cell gets ``built / weight`` rows rounded stochastically, each standing for
``weight`` real dwellings, so totals stay in full-population units. The remaining capacity
is rounded with the same draw: a cell with less than one row of capacity left still builds,
with the plan's probability, so the rows built equal the plan on average (a cell may exceed
its capacity by less than one row). The built dwellings are taken off the cell's capacity.

Scenario levers (:class:`ConstructionLevers`): densification around stations and multi-core
steering shape the zoning (``agents/zoning.py``); area neutrality caps the number of cells
that may become built up (get their first dwelling) each year: where more would, those with
the largest planned construction go first.

New rows are vacant. Columns beyond the core five are filled when the ``Dwellings`` table
has them: ``floor_area_m2`` with the mean floor area of the same type in the same
municipality, ``price_nok_per_m2`` with the cell's mean price (the level the developer
expected, before the new-build premium); the housing market (step 5) moves prices on.

Parameters: ``data/parameters/construction.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from agents.population import DWELLING_TYPE_NAMES, NO_ROW, Dwellings
from agents.zoning import Zoning, ZoningParameters
from model.parameters import ParameterError, municipal_values, parameter_file
from model.world import World, window_sum

APARTMENT_BLOCK = DWELLING_TYPE_NAMES.index("apartment_block")
ROW_TERRACED = DWELLING_TYPE_NAMES.index("row_terraced")
DETACHED = DWELLING_TYPE_NAMES.index("detached")


@dataclass(frozen=True)
class ConstructionLevers:
    """Scenario levers of zoning and construction; the default is no lever at all.

    Attributes:
        station_densification_radius_km: cells within this distance of an active rail
            station get extra capacity; None = lever off.
        station_densification_extra_dwellings_per_cell: that extra capacity, dwellings per
            km2 of land.
        station_densification_stations: names of the stations to densify around (empty:
            every active station).
        multi_core_towns: municipality numbers of the regional towns to steer growth to.
        multi_core_share: least share of the region's capacity in those towns' centre cells.
        area_neutrality_max_new_cells_per_year: most cells that may get their first dwelling
            in one year (0 = no new built-up land); None = no cap.

    """

    station_densification_radius_km: float | None = None
    station_densification_extra_dwellings_per_cell: float = 0.0
    station_densification_stations: tuple[str, ...] = ()
    multi_core_towns: tuple[str, ...] = ()
    multi_core_share: float = 0.0
    area_neutrality_max_new_cells_per_year: int | None = None

    def __post_init__(self) -> None:
        """Refuse impossible values, naming the lever and what is allowed."""
        radius = self.station_densification_radius_km
        if radius is not None and not radius > 0:
            raise ValueError(f"station_densification_radius_km is {radius}; allowed: > 0 or None")
        extra = self.station_densification_extra_dwellings_per_cell
        if not extra >= 0:
            raise ValueError(
                f"station_densification_extra_dwellings_per_cell is {extra}; allowed: >= 0"
            )
        if not 0.0 <= self.multi_core_share < 1.0:
            raise ValueError(f"multi_core_share is {self.multi_core_share}; allowed: 0 <= x < 1")
        cap = self.area_neutrality_max_new_cells_per_year
        if cap is not None and cap < 0:
            raise ValueError(
                f"area_neutrality_max_new_cells_per_year is {cap}; allowed: >= 0 or None"
            )


@dataclass(frozen=True)
class Developers:
    """The developer rule (see construction.toml [developers])."""

    build_share_per_year: float
    full_pace_margin: float
    new_build_price_factor: float
    apartment_block_min_dwellings: float
    row_terraced_min_dwellings: float
    margin_shift: dict[str, float]  # by municipality number, added to the margin


@dataclass(frozen=True)
class CostByType:
    """Full cost of a new dwelling, NOK per m2 of floor area, by dwelling type."""

    apartment_block: float
    communal: float
    row_terraced: float
    other: float
    two_family: float
    detached: float

    def by_type(self) -> np.ndarray:
        """The costs in the order of ``agents.population.DWELLING_TYPE_NAMES``."""
        return np.array([getattr(self, name) for name in DWELLING_TYPE_NAMES], dtype=float)


# field -> (lowest allowed, highest allowed, whether the lowest is allowed itself)
_RANGES = {
    "zoning.settled_min_dwellings": (0.0, np.inf, False),
    "zoning.densification_share": (0.0, np.inf, True),
    "zoning.densification_floor_dwellings": (0.0, np.inf, True),
    "zoning.greenfield_dwellings_per_km2": (0.0, np.inf, True),
    "zoning.multi_core_centre_radius_km": (0.0, np.inf, False),
    "zoning.renewal_share_per_year": (0.0, 1.0, True),
    "developers.build_share_per_year": (0.0, 1.0, True),
    "developers.full_pace_margin": (0.0, np.inf, False),
    "developers.new_build_price_factor": (0.0, np.inf, False),
    "developers.apartment_block_min_dwellings": (0.0, np.inf, True),
    "developers.row_terraced_min_dwellings": (0.0, np.inf, True),
    **{f"cost_nok_per_m2.{name}": (0.0, np.inf, False) for name in DWELLING_TYPE_NAMES},
}


def _check_dwelling_thresholds(params: ConstructionParameters, path: Path) -> None:
    """Row houses need no more density than apartment blocks; capacity factors are > 0."""
    for code, factor in params.zoning.capacity_factor.items():
        if not factor > 0:
            raise ParameterError(
                f"{path}: field 'zoning.capacity_factor.{code}' is {factor!r}; allowed: > 0"
            )
    developers = params.developers
    if developers.row_terraced_min_dwellings > developers.apartment_block_min_dwellings:
        raise ParameterError(
            f"{path}: field 'developers.row_terraced_min_dwellings' is "
            f"{developers.row_terraced_min_dwellings!r}; allowed: <= "
            f"apartment_block_min_dwellings ({developers.apartment_block_min_dwellings!r})"
        )


@parameter_file("construction.toml", ranges=_RANGES, check=_check_dwelling_thresholds)
@dataclass(frozen=True)
class ConstructionParameters:
    """All parameters of zoning and construction."""

    zoning: ZoningParameters
    developers: Developers
    cost_nok_per_m2: CostByType


@dataclass(frozen=True)
class ConstructionFlows:
    """What was built in one year, per municipality."""

    dwellings_built: np.ndarray  # float64, full-population units
    cells_newly_built_up: np.ndarray  # int64, cells that got their first dwelling


class Construction:
    """Developers building dwellings cell by cell, vectorised over the land cells."""

    def __init__(
        self,
        params: ConstructionParameters,
        levers: ConstructionLevers,
        rng: np.random.Generator,
        expected_dwellings_per_cell: np.ndarray | None = None,
    ) -> None:
        """Set up with the parameters, the scenario's levers and the sub-model's stream.

        ``expected_dwellings_per_cell`` (full-population units, the synthesis's expected
        base-year stock) sets the density that decides the type of new dwellings, plus what
        is built later; without it the sampled stock of the cell does, which at small
        scales makes a cell with one row look dense.
        """
        self.params = params
        self.levers = levers
        self.rng = rng
        self._cost_by_type = params.cost_nok_per_m2.by_type()
        self.density = (
            None
            if expected_dwellings_per_cell is None
            else np.asarray(expected_dwellings_per_cell, dtype=float).copy()
        )

    def new_dwelling_type(self, dwellings_per_cell: np.ndarray) -> np.ndarray:
        """The type (int8) of dwellings built in each cell, from its density today."""
        developers = self.params.developers
        return np.select(
            [
                dwellings_per_cell >= developers.apartment_block_min_dwellings,
                dwellings_per_cell >= developers.row_terraced_min_dwellings,
            ],
            [APARTMENT_BLOCK, ROW_TERRACED],
            DETACHED,
        ).astype(np.int8)

    def planned(
        self,
        world: World,
        dwellings: Dwellings,
        zoning: Zoning,
        price_nok_per_m2_by_dwelling: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dwellings developers want to build in each cell this year, their type and price.

        Returns the planned dwellings (full-population units, before rounding to rows and
        before the area-neutrality cap), the new dwellings' type and the cell's mean price
        per m2 (its municipality's for a cell without dwellings), one value per land cell.
        """
        developers = self.params.developers
        n_cells, n_municipalities = world.n_cells, world.n_municipalities
        weighted_price = dwellings.weight * price_nok_per_m2_by_dwelling
        stock = np.bincount(dwellings.cell, dwellings.weight, n_cells)
        cell_price = _ratio(np.bincount(dwellings.cell, weighted_price, n_cells), stock)
        municipality_price = _ratio(
            np.bincount(dwellings.municipality, weighted_price, n_municipalities),
            np.bincount(dwellings.municipality, dwellings.weight, n_municipalities),
        )
        # A cell without a dwelling row takes the price of its 3 x 3 neighbourhood in the same
        # municipality (at small scales many settled cells hold no row), else its
        # municipality's.
        value_nearby = window_sum(
            world, np.bincount(dwellings.cell, weighted_price, n_cells), within_municipality=True
        )
        stock_nearby = window_sum(world, stock, within_municipality=True)
        nearby_price = _ratio(value_nearby, stock_nearby)
        fallback = np.where(
            stock_nearby > 0, nearby_price, municipality_price[world.cell_municipality]
        )
        cell_price = np.where(stock > 0, cell_price, fallback)
        dwelling_type = self.new_dwelling_type(stock if self.density is None else self.density)
        expected_price = developers.new_build_price_factor * cell_price
        margin = expected_price / self._cost_by_type[dwelling_type] - 1.0
        margin += municipal_values(developers.margin_shift, world.codes)[world.cell_municipality]
        pace = developers.build_share_per_year * np.clip(
            margin / developers.full_pace_margin, 0.0, 1.0
        )
        return pace * np.maximum(zoning.capacity_dwellings, 0.0), dwelling_type, cell_price

    def step(
        self,
        year: int,
        world: World,
        dwellings: Dwellings,
        zoning: Zoning,
        price_nok_per_m2_by_dwelling: np.ndarray,
        scale_weight_by_municipality: np.ndarray,
    ) -> ConstructionFlows:
        """Build this year's dwellings, in place; return the flows.

        Appends vacant rows to ``dwellings``, lowers ``zoning.capacity_dwellings`` by what was
        built and marks cells that got their first dwelling in ``zoning.built_up``. ``year``
        is the simulated year (levers with a start year will use it).
        """
        n_cells, n_municipalities = world.n_cells, world.n_municipalities
        # Always the same draws, whatever is built, so that a lever changes only the cells
        # it touches.
        rounding = self.rng.random(n_cells)
        tie_break = self.rng.random(n_cells)

        planned, dwelling_type, cell_price = self.planned(
            world, dwellings, zoning, price_nok_per_m2_by_dwelling
        )
        weight = np.asarray(scale_weight_by_municipality, dtype=float)[world.cell_municipality]
        capacity = np.maximum(zoning.capacity_dwellings, 0.0)
        rows = np.zeros(n_cells, dtype=np.int64)
        ok = weight > 0
        # The plan and the capacity are rounded with the same draw: a cell whose capacity is
        # under one row can still build, and the rows built equal the plan on average (the
        # plan is a share of the capacity, so the capacity's rounding never binds below it).
        rows[ok] = np.minimum(
            np.floor(planned[ok] / weight[ok] + rounding[ok]),
            np.floor(capacity[ok] / weight[ok] + rounding[ok]),
        ).astype(np.int64)

        newly = (rows > 0) & ~zoning.built_up
        cap = self.levers.area_neutrality_max_new_cells_per_year
        if cap is not None and np.count_nonzero(newly) > cap:
            candidates = np.flatnonzero(newly)
            order = np.lexsort((tie_break[candidates], -planned[candidates]))
            refused = candidates[order[cap:]]
            rows[refused] = 0
            newly[refused] = False

        built = rows * weight
        cells = np.repeat(np.arange(n_cells, dtype=np.int32), rows)
        dwellings.append(
            _new_dwellings(
                dwellings,
                n_municipalities,
                cells,
                world.cell_municipality[cells],
                dwelling_type[cells],
                weight[cells],
                cell_price[cells],
            )
        )
        zoning.capacity_dwellings = np.maximum(zoning.capacity_dwellings - built, 0.0)
        if self.density is not None:
            self.density += built
        zoning.built_up = zoning.built_up | (rows > 0)
        return ConstructionFlows(
            dwellings_built=np.bincount(world.cell_municipality, built, n_municipalities),
            cells_newly_built_up=np.bincount(
                world.cell_municipality[newly], minlength=n_municipalities
            ),
        )


def weight_by_municipality(dwellings: Dwellings, n_municipalities: int) -> np.ndarray:
    """Real dwellings one row stands for in each municipality (its mean row weight).

    A municipality without any dwelling row gets the region's mean row weight.
    """
    rows = np.bincount(dwellings.municipality, minlength=n_municipalities)
    total = np.bincount(dwellings.municipality, dwellings.weight, n_municipalities)
    fallback = dwellings.weight.mean() if len(dwellings) else 1.0
    return np.where(rows > 0, _ratio(total, rows.astype(float)), fallback)


def _new_dwellings(
    dwellings: Dwellings,
    n_municipalities: int,
    cells: np.ndarray,
    municipality: np.ndarray,
    dwelling_type: np.ndarray,
    weight: np.ndarray,
    price_nok_per_m2: np.ndarray,
) -> Dwellings:
    """Vacant rows for the new dwellings, with every column the table has."""
    columns = {
        "municipality": municipality.astype(np.int16),
        "cell": cells.astype(np.int32),
        "dwelling_type": dwelling_type.astype(np.int8),
        "household": np.full(len(cells), NO_ROW, dtype=np.int32),
        "weight": weight.astype(float),
    }
    for field in fields(Dwellings):
        if field.name in columns:
            continue
        existing = getattr(dwellings, field.name)
        if field.name == "floor_area_m2":
            values = _mean_by_municipality_and_type(dwellings, existing, n_municipalities)
            values = values[municipality, dwelling_type]
        elif field.name == "price_nok_per_m2":
            values = price_nok_per_m2
        else:  # a column this module does not know yet: zero, until it is taught
            values = np.zeros(len(cells))
        columns[field.name] = np.asarray(values).astype(existing.dtype)
    return Dwellings(**columns)


def _mean_by_municipality_and_type(
    dwellings: Dwellings, values: np.ndarray, n_municipalities: int
) -> np.ndarray:
    """Weighted mean of ``values`` by (municipality, dwelling type); region means fill gaps."""
    n_types = len(DWELLING_TYPE_NAMES)
    group = dwellings.municipality.astype(np.int64) * n_types + dwellings.dwelling_type
    size = n_municipalities * n_types
    total = np.bincount(group, dwellings.weight * values, size).reshape(-1, n_types)
    weight = np.bincount(group, dwellings.weight, size).reshape(-1, n_types)
    type_total = np.bincount(dwellings.dwelling_type, dwellings.weight * values, n_types)
    type_weight = np.bincount(dwellings.dwelling_type, dwellings.weight, n_types)
    overall = _ratio(type_total.sum(keepdims=True), type_weight.sum(keepdims=True))
    by_type = np.where(type_weight > 0, _ratio(type_total, type_weight), overall)
    return np.where(weight > 0, _ratio(total, weight), by_type[None, :])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """The quotient, 0 where the denominator is 0."""
    out = np.zeros_like(numerator, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out
