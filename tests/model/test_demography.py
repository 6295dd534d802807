"""The yearly demography step: population balance, plausible rates, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.region_model import RegionModel
from model.streams import random_stream


@pytest.fixture(scope="module")
def stepped():
    """A small model stepped three years, with its indicators."""
    model = RegionModel(seed=7, scale=0.05)
    before = len(model.persons)
    model.step()
    model.check_invariants()
    model.step()
    model.step()
    model.check_invariants()
    return model, before


def region(model, indicator):
    table = model.indicator_table()
    rows = table[(table["kommunenummer"] == "region") & (table["indicator"] == indicator)]
    return rows.set_index("year")["value"]


def municipal(model, indicator):
    table = model.indicator_table()
    rows = table[(table["kommunenummer"] != "region") & (table["indicator"] == indicator)]
    return rows.pivot(index="year", columns="kommunenummer", values="value")


def test_population_balance_holds_in_every_municipality(stepped):
    """Nobody lost or duplicated: population on 1 Jan Y+1 = population 1 Jan Y + births -
    deaths + in-migrants - out-migrants + moves in - moves out within the region."""
    model, _ = stepped
    population = municipal(model, "population")
    flows = {
        name: municipal(model, name)
        for name in ("births", "deaths", "in_migrants", "out_migrants", "moved_in", "moved_out")
    }
    for year in (2024, 2025, 2026):
        expected = (
            population.loc[year]
            + flows["births"].loc[year]
            - flows["deaths"].loc[year]
            + flows["in_migrants"].loc[year]
            - flows["out_migrants"].loc[year]
            + flows["moved_in"].loc[year]
            - flows["moved_out"].loc[year]
        )
        assert np.allclose(population.loc[year + 1], expected)
        assert flows["moved_in"].loc[year].sum() == pytest.approx(
            flows["moved_out"].loc[year].sum()
        )


def test_rates_are_plausible_for_the_region(stepped):
    """SSB 2023-24: crude birth rate about 1.0 %, crude death rate about 0.8 % in Norway,
    lower in the younger Oslo region."""
    model, _ = stepped
    population = region(model, "population")
    birth_rate = region(model, "births") / population.loc[2024:2026]
    death_rate = region(model, "deaths") / population.loc[2024:2026]
    assert ((birth_rate > 0.008) & (birth_rate < 0.012)).all(), birth_rate
    assert ((death_rate > 0.005) & (death_rate < 0.009)).all(), death_rate


def test_people_age_and_newborns_join_existing_households(stepped):
    model, persons_before = stepped
    persons = model.persons
    assert len(persons) != persons_before
    newborns = persons.age_years < 3
    assert newborns.sum() > 0
    adults = np.bincount(persons.household, persons.age_years >= 18, len(model.households))
    assert (adults[persons.household[newborns]] >= 1).mean() > 0.999
    assert region(model, "persons_67_plus").is_monotonic_increasing


def test_household_balance(stepped):
    """Households 1 Jan Y+1 = households 1 Jan Y + formed - dissolved - merged into couples
    + arrived - left."""
    model, _ = stepped
    households = region(model, "households")
    change = (
        region(model, "households_formed")
        - region(model, "households_dissolved")
        - region(model, "couples_formed")
        + region(model, "in_migrant_households")
        - region(model, "out_migrant_households")
    )
    for year in (2024, 2025, 2026):
        assert households.loc[year + 1] == pytest.approx(households.loc[year] + change.loc[year])
    assert (region(model, "households_dissolved") > 0).all()
    assert (region(model, "households_formed") > 0).all()


def test_households_grow_about_one_percent_a_year(stepped):
    model, _ = stepped
    households = region(model, "households")
    growth = households.pct_change().dropna()
    assert ((growth > 0.004) & (growth < 0.02)).all(), growth


def test_leavers_form_one_person_renter_households_in_their_municipality():
    model = RegionModel(seed=5, scale=0.02)
    persons, households, dwellings = model.persons, model.households, model.dwellings
    before = len(households)
    vacant_before = np.flatnonzero(dwellings.household == -1)
    formation = model.household_formation
    formation.rates = dataclasses.replace(formation.rates, couple_probability=0.0)
    flows = formation.step(persons, households, dwellings)
    model.check_invariants()
    new = np.arange(before, len(households))
    assert len(new) > 0
    assert flows.households_formed.sum() == pytest.approx(households.weight[new].sum())
    sizes = np.bincount(persons.household, minlength=len(households))
    assert (sizes[new] == 1).all()
    ages = persons.age_years[np.isin(persons.household, new)]
    assert ((ages >= 18) & (ages <= 34)).all()
    assert (households.tenure[new] == 2).all()
    assert np.isin(households.dwelling[new], vacant_before).all()


def test_same_seed_same_path_different_seed_different_path():
    def path(seed):
        model = RegionModel(seed=seed, scale=0.01)
        model.step()
        model.step()
        return model.indicator_table()

    first, again, other = path(3), path(3), path(4)
    assert first.equals(again)
    assert not first["value"].equals(other["value"])


def test_streams_depend_on_seed_and_name_only():
    a = random_stream(5, "demography").random(4)
    assert np.array_equal(a, random_stream(5, "demography").random(4))
    assert not np.array_equal(a, random_stream(5, "migration").random(4))
    assert not np.array_equal(a, random_stream(6, "demography").random(4))


def test_single_adults_pair_up_into_one_household():
    model = RegionModel(seed=5, scale=0.02)
    persons, households, dwellings = model.persons, model.households, model.dwellings
    population_before = len(persons)
    households_before = len(households)
    income_before = households.income_nok.sum()
    formation = model.household_formation
    formation.rates = dataclasses.replace(formation.rates, leave_probability=(0.0, 0.0, 0.0, 0.0))
    flows = formation.step(persons, households, dwellings)
    model.check_invariants()
    merged = int(round(flows.couples_formed.sum() / households.weight[0]))
    assert merged > 0
    assert len(households) == households_before - merged
    assert len(persons) == population_before
    assert households.income_nok.sum() == pytest.approx(income_before)
