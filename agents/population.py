"""Households, persons, dwellings and firms as columns: one numpy array per attribute.

A full Greater Oslo holds about 2.3 million persons and 1.1 million households, too many for
one Python object each. Each table below keeps one row per agent in parallel arrays, and the
rules that act on them (in ``model/``) are vectorised over those arrays. Rows are linked by
integer indices: a person's ``household`` is a row of :class:`Households`, a household's
``dwelling`` a row of :class:`Dwellings`, a dwelling's ``cell`` a land cell of the world.

Every household carries a ``weight``: the number of real households it stands for (1.0 at
scale 1.0, about 1/scale below it). Persons carry their household's weight, so every
indicator is reported in full-population units.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

FEMALE, MALE = 0, 1
SEX_NAMES = ("female", "male")

# Municipal renters rent a municipal dwelling (kommunal utleiebolig), a subset of SSB's
# renters that the municipality allocates to households with low income and to refugees.
OWNER, COOP_OWNER, RENTER, MUNICIPAL_RENTER = 0, 1, 2, 3
TENURE_NAMES = ("owner", "coop_owner", "renter", "municipal_renter")

# Dwelling types of SSB 06265, ordered from least to most floor space per dwelling.
DWELLING_TYPE_NAMES = (
    "apartment_block",
    "communal",
    "row_terraced",
    "other",
    "two_family",
    "detached",
)

# Where a household came from: living in the region at the base year, or arrived later.
RESIDENT, DOMESTIC_IN_MIGRANT, LABOUR_MIGRANT, REFUGEE = 0, 1, 2, 3
ORIGIN_NAMES = ("resident", "domestic_in_migrant", "labour_migrant", "refugee")
IMMIGRANT_ORIGINS = (LABOUR_MIGRANT, REFUGEE)

NO_ROW = -1


class _Columns:
    """Shared helpers for a table whose dataclass fields are equal-length arrays."""

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))

    def take(self, rows: np.ndarray) -> None:
        """Keep only ``rows`` (an index or boolean mask), in that order, in every column."""
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name)[rows])

    def append(self, other: _Columns) -> None:
        """Append the rows of ``other`` (a table of the same type) at the end."""
        for field in fields(self):
            joined = np.concatenate([getattr(self, field.name), getattr(other, field.name)])
            setattr(self, field.name, joined)

    def nbytes(self) -> int:
        """Memory held by the columns, in bytes."""
        return sum(getattr(self, field.name).nbytes for field in fields(self))


@dataclass
class Persons(_Columns):
    """One row per person."""

    age_years: np.ndarray  # int16
    sex: np.ndarray  # int8, FEMALE or MALE
    household: np.ndarray  # int32, row in Households
    employed: np.ndarray  # bool
    # int32, row in Firms of the person's workplace this year; NO_ROW when not employed or
    # working outside the region. Redrawn by the commuting step every year.
    work_firm: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Persons made without a workplace get NO_ROW."""
        if self.work_firm is None:
            self.work_firm = np.full(len(self.age_years), NO_ROW, dtype=np.int32)


@dataclass
class Households(_Columns):
    """One row per private household."""

    municipality: np.ndarray  # int16, index into the model's municipality list
    dwelling: np.ndarray  # int32, row in Dwellings
    income_nok: np.ndarray  # float64, household income after tax, NOK per year
    tenure: np.ndarray  # int8, OWNER / COOP_OWNER / RENTER / MUNICIPAL_RENTER
    weight: np.ndarray  # float64, real households this row stands for
    origin: np.ndarray  # int8, RESIDENT / DOMESTIC_IN_MIGRANT / LABOUR_MIGRANT / REFUGEE
    arrival_year: np.ndarray  # int16, year the household arrived (0 for base-year residents)


@dataclass
class Dwellings(_Columns):
    """One row per dwelling; ``household`` is NO_ROW for a vacant dwelling."""

    municipality: np.ndarray  # int16
    cell: np.ndarray  # int32, land cell of the world
    dwelling_type: np.ndarray  # int8, index into DWELLING_TYPE_NAMES
    household: np.ndarray  # int32, occupying household or NO_ROW
    weight: np.ndarray  # float64, real dwellings this row stands for
    floor_area_m2: np.ndarray  # float32, usable floor area
    price_nok_per_m2: np.ndarray  # float64, market price (SSB 06035 level at the base year)
    municipal_rental: np.ndarray  # bool, owned and let by the municipality


@dataclass
class Firms(_Columns):
    """One row per establishment (a workplace with at least one job)."""

    municipality: np.ndarray  # int16
    cell: np.ndarray  # int32
    jobs: np.ndarray  # int32, jobs at the establishment (full-population units)
    sector: np.ndarray  # int8, row of data/parameters/job_sectors.csv


def household_sizes(persons: Persons, n_households: int) -> np.ndarray:
    """Number of person rows in each household."""
    return np.bincount(persons.household, minlength=n_households)


def consumption_units(persons: Persons, size: np.ndarray) -> np.ndarray:
    """EU-scale consumption units of each household.

    1 for the first person aged 14+, 0.5 for each other person aged 14+, 0.3 for each child
    under 14; ``size`` is the number of members of each household.
    """
    adults = np.bincount(persons.household, persons.age_years >= 14, len(size))
    return 1.0 + 0.5 * np.maximum(adults - 1, 0) + 0.3 * (size - adults)


def oldest_member_age(persons: Persons, n_households: int) -> np.ndarray:
    """Age of the oldest member of each household (the household's reference person)."""
    oldest = np.full(n_households, -1, dtype=np.int16)
    np.maximum.at(oldest, persons.household, persons.age_years)
    return oldest


def remove_households(
    persons: Persons, households: Households, dwellings: Dwellings, remove: np.ndarray
) -> None:
    """Remove the households in boolean mask ``remove`` with their members, in place.

    Their dwellings become vacant; the remaining households are renumbered and the persons'
    and dwellings' links follow.
    """
    if not remove.any():
        return
    housed = households.dwelling[remove]
    dwellings.household[housed[housed != NO_ROW]] = NO_ROW
    persons.take(~remove[persons.household])
    new_row = np.cumsum(~remove) - 1
    households.take(~remove)
    persons.household = new_row[persons.household].astype(np.int32)
    occupied = dwellings.household != NO_ROW
    dwellings.household[occupied] = new_row[dwellings.household[occupied]]


def random_vacancies(
    municipality: np.ndarray,
    vacant: np.ndarray,
    dwellings: Dwellings,
    rng: np.random.Generator,
) -> np.ndarray:
    """A distinct random dwelling from ``vacant`` in each seeker's municipality, or NO_ROW.

    Seekers and vacant dwellings are both shuffled within their municipality and paired in
    that order, so no dwelling is handed out twice; seekers beyond the vacancies get NO_ROW.
    """
    vacant = vacant[np.lexsort((rng.random(len(vacant)), dwellings.municipality[vacant]))]
    vacant_municipality = dwellings.municipality[vacant]
    order = np.lexsort((rng.random(len(municipality)), municipality))
    sorted_municipality = municipality[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_municipality, sorted_municipality)
    first = np.searchsorted(vacant_municipality, sorted_municipality, side="left")
    count = np.searchsorted(vacant_municipality, sorted_municipality, side="right") - first
    chosen = np.full(len(order), NO_ROW, dtype=np.int64)
    ok = rank < count
    chosen[ok] = vacant[first[ok] + rank[ok]]
    result = np.empty(len(order), dtype=np.int64)
    result[order] = chosen
    return result
