"""The yearly demography step: population balance, plausible rates, determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agents.population import Households, Persons
from model.demography import income_follows_employment
from model.migration import Arrivals
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


def no_arrivals() -> Arrivals:
    """An empty year of migration, so the market sees movers and leavers only."""
    persons = Persons(
        age_years=np.zeros(0, dtype=np.int16),
        sex=np.zeros(0, dtype=np.int8),
        household=np.zeros(0, dtype=np.int32),
        employed=np.zeros(0, dtype=bool),
    )
    households = Households(
        municipality=np.zeros(0, dtype=np.int16),
        dwelling=np.zeros(0, dtype=np.int32),
        income_nok=np.zeros(0),
        tenure=np.zeros(0, dtype=np.int8),
        weight=np.zeros(0),
        origin=np.zeros(0, dtype=np.int8),
        arrival_year=np.zeros(0, dtype=np.int16),
    )
    return Arrivals(persons, households)


def test_leavers_look_for_a_dwelling_on_the_market_or_stay_home():
    model = RegionModel(seed=5, scale=0.02)
    persons, households, dwellings = model.persons, model.households, model.dwellings
    n_persons, income_before = len(persons), households.income_nok.sum()
    vacant_before = np.flatnonzero(dwellings.household == -1)
    formation = model.household_formation
    formation.rates = dataclasses.replace(formation.rates, separation_probability=0.0)
    leavers = formation.leave_home(persons, households)
    assert len(leavers.households) > 0
    assert (households.dwelling[leavers.households] == -1).all()
    ages = persons.age_years[leavers.persons]
    assert ((ages >= 18) & (ages <= 34)).all()
    parents_before = leavers.parents.copy()
    flows = model.housing_market.step(
        model.year, persons, households, dwellings, no_arrivals(), leavers
    )
    model.check_invariants()
    assert len(persons) == n_persons, "nobody lost: a leaver without a dwelling stays home"
    housed = flows.households_formed.sum() / households.weight[0]
    stayed = flows.leavers_without_dwelling.sum() / households.weight[0]
    assert round(housed) + round(stayed) == len(leavers.households)
    assert housed > 0
    sizes = np.bincount(persons.household, minlength=len(households))
    assert sizes.min() >= 1
    # the leavers that moved out got a dwelling that stood vacant (or one vacated this year)
    moved_out = persons.household[leavers.persons] != parents_before
    assert np.isin(households.tenure[persons.household[leavers.persons[moved_out]]], (2, 3)).all()
    assert len(np.intersect1d(households.dwelling, vacant_before)) > 0
    # incomes: what parents gave up went with the housed leavers, or came back
    assert households.income_nok.sum() > 0.8 * income_before


def test_couples_part_into_two_households():
    model = RegionModel(seed=5, scale=0.02)
    persons, households = model.persons, model.households
    formation = model.household_formation
    formation.rates = dataclasses.replace(
        formation.rates, leave_probability=(0.0, 0.0, 0.0, 0.0), separation_probability=1.0
    )
    households_before = len(households)
    leavers = formation.leave_home(persons, households)
    assert len(leavers.households) > 0.2 * households_before
    partner_age = persons.age_years[leavers.persons]
    assert (partner_age >= formation.rates.couple_min_age_years).all()
    remaining = np.bincount(persons.household, minlength=len(households))
    assert (remaining[leavers.parents] >= 1).all(), "the older partner and the children stay"


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
    couples = formation.form_couples(persons, households, dwellings)
    model.check_invariants()
    merged = int(round(couples.sum() / households.weight[0]))
    assert merged > 0
    assert len(households) == households_before - merged
    assert len(persons) == population_before
    assert households.income_nok.sum() == pytest.approx(income_before)


def test_household_income_follows_its_members_work():
    persons = Persons(
        age_years=np.array([40, 38, 10, 30], dtype=np.int16),
        sex=np.array([0, 1, 0, 1], dtype=np.int8),
        household=np.array([0, 0, 0, 1], dtype=np.int32),
        employed=np.array([True, False, False, True]),
    )
    households = Households(
        municipality=np.zeros(2, dtype=np.int16),
        dwelling=np.arange(2, dtype=np.int32),
        income_nok=np.array([500_000.0, 400_000.0]),
        tenure=np.zeros(2, dtype=np.int8),
        weight=np.ones(2),
        origin=np.zeros(2, dtype=np.int8),
        arrival_year=np.zeros(2, dtype=np.int16),
    )
    was = persons.employed.copy()
    persons.employed[:] = [True, True, False, False]  # one finds work, one retires
    income_follows_employment(persons, households, was, 0.35)
    assert households.income_nok == pytest.approx([500_000 * np.exp(0.35), 400_000 / np.exp(0.35)])
