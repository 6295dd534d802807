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

OWNER, COOP_OWNER, RENTER = 0, 1, 2
TENURE_NAMES = ("owner", "coop_owner", "renter")

# Dwelling types of SSB 06265, ordered from least to most floor space per dwelling.
DWELLING_TYPE_NAMES = (
    "apartment_block",
    "communal",
    "row_terraced",
    "other",
    "two_family",
    "detached",
)

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


@dataclass
class Households(_Columns):
    """One row per private household."""

    municipality: np.ndarray  # int16, index into the model's municipality list
    dwelling: np.ndarray  # int32, row in Dwellings
    income_nok: np.ndarray  # float64, household income after tax, NOK per year
    tenure: np.ndarray  # int8, OWNER / COOP_OWNER / RENTER
    weight: np.ndarray  # float64, real households this row stands for


@dataclass
class Dwellings(_Columns):
    """One row per dwelling; ``household`` is NO_ROW for a vacant dwelling."""

    municipality: np.ndarray  # int16
    cell: np.ndarray  # int32, land cell of the world
    dwelling_type: np.ndarray  # int8, index into DWELLING_TYPE_NAMES
    household: np.ndarray  # int32, occupying household or NO_ROW
    weight: np.ndarray  # float64, real dwellings this row stands for


@dataclass
class Firms(_Columns):
    """One row per establishment (a workplace with at least one job)."""

    municipality: np.ndarray  # int16
    cell: np.ndarray  # int32
    jobs: np.ndarray  # int32, jobs at the establishment (full-population units)


def household_sizes(persons: Persons, n_households: int) -> np.ndarray:
    """Number of person rows in each household."""
    return np.bincount(persons.household, minlength=n_households)


def oldest_member_age(persons: Persons, n_households: int) -> np.ndarray:
    """Age of the oldest member of each household (the household's reference person)."""
    oldest = np.full(n_households, -1, dtype=np.int16)
    np.maximum.at(oldest, persons.household, persons.age_years)
    return oldest
