"""Municipality agents and the column tables."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from agents.municipality import Municipality
from agents.population import Persons, household_sizes, oldest_member_age


def test_municipalities_are_mesa_agents_with_their_figures(small_model):
    municipalities = small_model.agents_by_type[Municipality]
    assert len(municipalities) == 65
    oslo = next(m for m in small_model.municipalities if m.kommunenummer == "0301")
    assert isinstance(oslo, mesa.Agent)
    assert oslo.name == "Oslo" and oslo.population == pytest.approx(
        717_710, abs=small_model.households.weight[0]
    )
    assert oslo.figures["jobs"] == 528_121
    assert oslo.land_cells == np.count_nonzero(small_model.world.cell_municipality == oslo.index)


def test_take_and_append_keep_columns_aligned():
    persons = Persons(
        age_years=np.array([30, 5, 70], dtype=np.int16),
        sex=np.array([0, 1, 1], dtype=np.int8),
        household=np.array([0, 0, 1], dtype=np.int32),
        employed=np.array([True, False, False]),
    )
    persons.take(np.array([True, False, True]))
    persons.append(
        Persons(
            np.array([0], np.int16),
            np.array([0], np.int8),
            np.array([1], np.int32),
            np.array([False]),
        )
    )
    assert persons.age_years.tolist() == [30, 70, 0]
    assert persons.household.tolist() == [0, 1, 1]
    assert len(persons) == 3
    assert household_sizes(persons, 2).tolist() == [1, 2]
    assert oldest_member_age(persons, 2).tolist() == [30, 70]
