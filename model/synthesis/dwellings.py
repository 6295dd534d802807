"""The dwelling stock of the base year and which household lives in which dwelling.

Per municipality: dwellings = households / (1 - vacancy rate); each dwelling gets a land cell
drawn by the cell weights of ``placement``; dwelling types follow the SSB 06265 shares, with
apartments in the densest cells and detached houses in the sparsest; a random subset as large
as the number of households is occupied, and larger households get the larger dwelling types.
Floor areas scatter log-normally around the mean area of each type.
"""

from __future__ import annotations

import numpy as np

from agents.population import DWELLING_TYPE_NAMES, NO_ROW, Dwellings
from model.parameters import DwellingStock
from model.synthesis.sampling import apportion
from model.world import World


def build_dwellings(
    world: World,
    household_municipality: np.ndarray,
    household_size: np.ndarray,
    household_weight: np.ndarray,
    cell_weights: np.ndarray,
    type_pct: np.ndarray,
    stock: DwellingStock,
    rng: np.random.Generator,
) -> tuple[Dwellings, np.ndarray]:
    """Return the dwellings and, for each household, the dwelling it occupies.

    ``type_pct`` is (municipalities, dwelling types) in the order of
    ``agents.population.DWELLING_TYPE_NAMES``.
    """
    parts: list[tuple[np.ndarray, ...]] = []
    household_dwelling = np.full(len(household_municipality), NO_ROW, dtype=np.int32)
    first_row = 0
    for m in range(world.n_municipalities):
        households = np.flatnonzero(household_municipality == m)
        n_dwellings = int(round(len(households) / (1.0 - stock.vacancy_rate)))
        cells = world.cells_of(m)
        per_cell = rng.multinomial(n_dwellings, cell_weights[cells] / cell_weights[cells].sum())
        cell = np.repeat(cells, per_cell).astype(np.int32)
        density = np.repeat(per_cell, per_cell)
        densest_first = np.argsort(-(np.log(density) + rng.normal(0, 0.5, n_dwellings)))
        dwelling_type = np.empty(n_dwellings, dtype=np.int8)
        type_counts = apportion(n_dwellings, type_pct[m])
        dwelling_type[densest_first] = np.repeat(np.arange(len(type_counts)), type_counts)

        occupied = np.sort(rng.choice(n_dwellings, len(households), replace=False))
        smallest_type_first = occupied[
            np.argsort(dwelling_type[occupied] + rng.random(len(occupied)))
        ]
        smallest_household_first = households[
            np.argsort(household_size[households] + rng.random(len(households)))
        ]
        occupant = np.full(n_dwellings, NO_ROW, dtype=np.int32)
        occupant[smallest_type_first] = smallest_household_first
        household_dwelling[smallest_household_first] = first_row + smallest_type_first
        weight = np.full(n_dwellings, household_weight[households[0]] if len(households) else 1.0)
        parts.append(
            (np.full(n_dwellings, m, dtype=np.int16), cell, dwelling_type, occupant, weight)
        )
        first_row += n_dwellings
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    dwelling_type = columns[2]
    mean_area = np.array([stock.floor_area_m2[name] for name in DWELLING_TYPE_NAMES])
    floor_area = mean_area[dwelling_type] * rng.lognormal(
        -0.5 * stock.floor_area_log_sd**2, stock.floor_area_log_sd, len(dwelling_type)
    )
    dwellings = Dwellings(
        *columns,
        floor_area_m2=floor_area.astype(np.float32),
        price_nok_per_m2=np.zeros(len(dwelling_type)),  # set by the price model
        municipal_rental=np.zeros(len(dwelling_type), dtype=bool),  # set with the tenure
    )
    return dwellings, household_dwelling
