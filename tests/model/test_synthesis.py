"""The synthetic base-year population against the statistics it is built from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agents.population import NO_ROW, household_sizes, oldest_member_age
from model.synthesis import age_sex_counts


def base_year(model) -> pd.DataFrame:
    table = model.indicator_table()
    table = table[(table["year"] == model.bundle.base_year) & (table["kommunenummer"] != "region")]
    return table.pivot(index="kommunenummer", columns="indicator", values="value")


def test_full_scale_totals_equal_the_statistics_exactly(full_model):
    stocks = base_year(full_model)
    targets = full_model.population.targets
    assert (stocks["population"] == targets["population"]).all()
    assert (stocks["employed"] == targets["employed"]).all()
    assert (stocks["jobs"] == targets["jobs"]).all()
    assert stocks["population"].sum() == 2_328_796


def test_full_scale_age_and_sex_equal_ssb_07459_exactly(full_model):
    persons, households = full_model.persons, full_model.households
    counts = np.zeros((full_model.world.n_municipalities, 2, 101), dtype=np.int64)
    np.add.at(
        counts,
        (households.municipality[persons.household], persons.sex, persons.age_years),
        1,
    )
    expected = age_sex_counts(full_model.bundle, list(full_model.world.codes))
    assert np.array_equal(counts, expected)


def test_household_size_follows_the_statistic(full_model):
    stocks = base_year(full_model)
    targets = full_model.population.targets
    size = stocks["population"] / stocks["households"]
    assert np.allclose(size, targets["persons_per_household"], rtol=0.002)
    known = targets["persons_per_household_source"] == "SSB 2019"
    assert known.sum() == 31
    assert targets.loc["0301", "persons_per_household"] == pytest.approx(1.976)


def test_household_sizes_are_realistic(full_model):
    """Norway: about 39 % one-person, 29 % two, 13 % three, 12 % four, 7 % five+."""
    size = household_sizes(full_model.persons, len(full_model.households))
    share = np.bincount(size, minlength=6)[1:6] / len(size)
    assert 0.30 < share[0] < 0.48
    assert 0.25 < share[1] < 0.36
    assert 0.08 < share[2] < 0.20
    assert 0.06 < share[3] < 0.16
    children = np.bincount(
        full_model.persons.household, full_model.persons.age_years < 18, len(size)
    )
    assert np.all(children < size), "a household of children only"


def test_every_person_in_one_household_every_household_in_one_dwelling(full_model):
    full_model.check_invariants()


def test_dwellings_exceed_households_by_the_vacancy_rate(full_model):
    dwellings, households = full_model.dwellings, full_model.households
    vacant = np.count_nonzero(dwellings.household == NO_ROW)
    assert len(dwellings) > len(households)
    assert vacant / len(dwellings) == pytest.approx(0.07, abs=0.002)


def test_income_median_equals_ssb_median(full_model):
    households = full_model.households
    median = pd.Series(households.income_nok).groupby(households.municipality).median()
    expected = full_model.population.targets["median_income_nok"].to_numpy()
    assert np.allclose(median.to_numpy(), expected, rtol=0.005)


def test_income_dispersion_is_the_documented_one(full_model):
    """Gini of income per consumption unit (EU scale): SSB 09114 about 0.25 for Norway."""
    persons, households = full_model.persons, full_model.households
    size = household_sizes(persons, len(households))
    adults = np.bincount(persons.household, persons.age_years >= 14, len(households))
    units = 1 + 0.5 * np.maximum(adults - 1, 0) + 0.3 * (size - adults)
    per_unit = np.sort(np.repeat(households.income_nok / units, size))
    n = len(per_unit)
    gini = (2 * np.arange(1, n + 1) - n - 1) @ per_unit / (n * per_unit.sum())
    assert 0.24 < gini < 0.30


def test_tenure_shares_equal_ssb_11084(full_model):
    households = full_model.households
    tenure = np.minimum(households.tenure, 2)  # municipal renters are among SSB's renters
    shares = pd.crosstab(households.municipality, tenure, normalize="index") * 100
    targets = full_model.population.targets[["owner_pct", "coop_owner_pct", "renter_pct"]]
    expected = targets.to_numpy() / targets.to_numpy().sum(axis=1, keepdims=True) * 100
    assert np.abs(shares.reindex(columns=[0, 1, 2], fill_value=0).to_numpy() - expected).max() < 0.2


def test_owners_are_older_and_richer_than_renters(full_model):
    households = full_model.households
    oldest = oldest_member_age(full_model.persons, len(households))
    owners, renters = households.tenure == 0, households.tenure == 2
    assert oldest[owners].mean() > oldest[renters].mean() + 5
    assert np.median(households.income_nok[owners]) > np.median(households.income_nok[renters])


def test_employment_profile_peaks_in_working_age(full_model):
    persons = full_model.persons
    assert not persons.employed[persons.age_years < 15].any()
    assert not persons.employed[persons.age_years > 74].any()
    rate_35_44 = persons.employed[(persons.age_years >= 35) & (persons.age_years < 45)].mean()
    rate_15_19 = persons.employed[(persons.age_years >= 15) & (persons.age_years < 20)].mean()
    assert rate_35_44 > 0.75 > 0.5 > rate_15_19


def test_households_are_denser_near_the_centre_and_stations(full_model):
    """Within each municipality, cells near the centre or a station hold more people."""
    world = full_model.world
    population = full_model.cell_counts()["population"]
    easting, northing = world.cell_centre_m()
    m = world.cell_municipality
    near_centre = (
        np.hypot(easting - world.centre_easting_m[m], northing - world.centre_northing_m[m]) < 2000
    )
    station_distance = np.min(
        np.hypot(
            easting[:, None] - world.station_easting_m[None, :],
            northing[:, None] - world.station_northing_m[None, :],
        ),
        axis=1,
    )
    near_station = station_distance < 1500
    far = ~near_centre & (station_distance > 5000)
    assert population[near_centre].mean() > 5 * population[far].mean()
    assert population[near_station & ~near_centre].mean() > 3 * population[far].mean()


def test_firms_hold_exactly_the_jobs_and_sit_in_their_municipality(full_model):
    firms, world = full_model.firms, full_model.world
    assert np.array_equal(world.cell_municipality[firms.cell], firms.municipality)
    assert (firms.jobs >= 1).all()
    jobs = np.bincount(firms.municipality, firms.jobs, world.n_municipalities)
    assert np.array_equal(jobs, full_model.population.targets["jobs"].to_numpy())
    small = np.mean(firms.jobs <= 4)
    assert 0.4 < small < 0.6  # SSB: 49.6 % of establishments have 1-4 employees


def test_reduced_scale_matches_statistics_within_one_sampled_unit(small_model):
    stocks = base_year(small_model)
    targets = small_model.population.targets
    weight = (
        pd.Series(small_model.households.weight, index=small_model.households.municipality)
        .groupby(level=0)
        .first()
        .to_numpy()
    )
    assert stocks["population"].sum() == pytest.approx(targets["population"].sum())
    assert (np.abs(stocks["population"] - targets["population"]) <= weight).all()
    households_target = targets["population"] / targets["persons_per_household"]
    assert (np.abs(stocks["households"] - households_target) <= weight).all()
    assert (np.abs(stocks["employed"] - targets["employed"]) <= weight).all()
    assert (stocks["jobs"] == targets["jobs"]).all()
    assert len(small_model.persons) == pytest.approx(0.05 * 2_328_796, rel=0.001)
    small_model.check_invariants()


def test_municipal_renters_are_the_poorest_renters(full_model):
    households, dwellings = full_model.households, full_model.dwellings
    municipal = households.tenure == 3
    assert municipal.mean() == pytest.approx(0.04, abs=0.002)
    assert np.median(households.income_nok[municipal]) < 0.6 * np.median(households.income_nok)
    assert dwellings.municipal_rental.mean() == pytest.approx(0.04, abs=0.002)
