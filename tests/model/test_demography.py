"""The yearly demography step: population balance, plausible rates, determinism."""

from __future__ import annotations

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
    """Population on 1 Jan Y+1 = population 1 Jan Y + births - deaths (no migration yet)."""
    model, _ = stepped
    population = municipal(model, "population")
    births = municipal(model, "births")
    deaths = municipal(model, "deaths")
    for year in (2024, 2025, 2026):
        expected = population.loc[year] + births.loc[year] - deaths.loc[year]
        assert np.allclose(population.loc[year + 1], expected)


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


def test_household_balance_formed_minus_dissolved(stepped):
    """Households 1 Jan Y+1 = households 1 Jan Y + formed - dissolved, per municipality;
    vacant dwellings change by dissolved - formed (no construction yet)."""
    model, _ = stepped
    households = municipal(model, "households")
    formed = municipal(model, "households_formed")
    dissolved = municipal(model, "households_dissolved")
    vacant = municipal(model, "vacant_dwellings")
    for year in (2024, 2025, 2026):
        change = formed.loc[year] - dissolved.loc[year]
        assert np.allclose(households.loc[year + 1], households.loc[year] + change)
        assert np.allclose(vacant.loc[year + 1], vacant.loc[year] - change)
    assert (dissolved.sum(axis=1) > 0).all() and (formed.sum(axis=1) > 0).all()


def test_households_grow_about_one_percent_a_year(stepped):
    model, _ = stepped
    households = region(model, "households")
    growth = households.pct_change().dropna()
    assert ((growth > 0.004) & (growth < 0.02)).all(), growth


def test_leavers_form_one_person_renter_households_in_their_municipality():
    model = RegionModel(seed=5, scale=0.02)
    model.step()
    model.check_invariants()
    sizes = np.bincount(model.persons.household, minlength=len(model.households))
    members_age = np.zeros(len(model.households), dtype=int)
    np.maximum.at(members_age, model.persons.household, model.persons.age_years)
    formed = region(model, "households_formed").loc[2024]
    n_new = int(round(formed / model.households.weight[0]))
    newest = np.arange(len(model.households) - n_new, len(model.households))  # appended last
    assert n_new > 0
    assert (sizes[newest] == 1).all()
    assert ((members_age[newest] >= 18) & (members_age[newest] <= 34)).all()
    assert (model.households.tenure[newest] == 2).all()


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
