"""Migration, refugee settlement and the housing market, as a planner would check them."""

from __future__ import annotations

import numpy as np
import pytest

from agents.population import FEMALE, MALE, REFUGEE
from model.migration import SettlementPolicy, projected_population, refugee_employment
from model.parameters import MigrationParameters, load_parameters
from model.region_model import RegionModel, regional_projection


def region_series(model: RegionModel, indicator: str):
    table = model.indicator_table()
    rows = table[(table["kommunenummer"] == "region") & (table["indicator"] == indicator)]
    return rows.set_index("year")["value"]


def municipal_series(model: RegionModel, indicator: str):
    table = model.indicator_table()
    rows = table[(table["kommunenummer"] != "region") & (table["indicator"] == indicator)]
    return rows.pivot(index="year", columns="kommunenummer", values="value")


@pytest.fixture(scope="module")
def baseline_to_2050():
    model = RegionModel(seed=2, scale=0.02)
    for _ in range(2024, 2050):
        model.step()
    model.check_invariants()
    return model


def test_baseline_follows_the_ssb_projection_within_2_percent_every_year(baseline_to_2050):
    model = baseline_to_2050
    projection = regional_projection(model.bundle, list(model.world.codes))
    population = region_series(model, "population")
    for year in range(2024, 2051):
        assert abs(population.loc[year] / projection[year] - 1) < 0.02, year


def test_growth_is_distributed_by_choices_not_copied_from_the_projection(baseline_to_2050):
    """The per-municipality path differs from SSB's municipal projection (it is only a
    comparison line), while every municipality keeps people."""
    model = baseline_to_2050
    table = model.bundle["population_projection.csv"]
    projected = table[table["year"] == 2050].set_index("kommunenummer")["population_projected_mmmm"]
    simulated = municipal_series(model, "population").loc[2050]
    ratio = simulated / projected.reindex(simulated.index)
    assert (simulated > 0).all()
    assert ratio.std() > 0.01
    comparison = municipal_series(model, "population_projected_ssb").loc[2050]
    assert np.allclose(comparison, projected.reindex(comparison.index))


def test_prices_stay_plausible(baseline_to_2050):
    change = region_series(baseline_to_2050, "price_change")
    assert change.between(-0.06, 0.08).all(), change.describe()
    built = region_series(baseline_to_2050, "dwellings_built")
    assert built.loc[2024] == pytest.approx(13_000, rel=0.35)


def run(policy: SettlementPolicy, years: int = 3, scale: float = 0.05, seed: int = 4):
    model = RegionModel(seed=seed, scale=scale, settlement=policy)
    for _ in range(years):
        model.step()
    model.check_invariants()
    return model


def test_dispersed_settlement_concentrates_refugees_less_than_concentrated():
    dispersed = run(SettlementPolicy("dispersed", 3000))
    concentrated = run(SettlementPolicy("concentrated", 3000))
    d_dispersed = region_series(dispersed, "refugee_dissimilarity").iloc[-1]
    d_concentrated = region_series(concentrated, "refugee_dissimilarity").iloc[-1]
    assert d_dispersed < d_concentrated - 0.05
    # and fewer refugees live where immigrants exceed 30 % of the residents
    assert in_immigrant_dense_cells(dispersed) < in_immigrant_dense_cells(concentrated) - 0.1


def in_immigrant_dense_cells(model: RegionModel) -> float:
    """Share of refugee households in cells where immigrants exceed 30 % of residents."""
    households = model.households
    share = model.housing_market._immigrant_share_by_cell(
        model.persons, households, model.dwellings
    )
    refugee = households.origin == REFUGEE
    return float((share[model.dwellings.cell[households.dwelling[refugee]]] > 0.3).mean())


def test_quotas_settle_refugees_where_the_table_says():
    model = run(SettlementPolicy("quotas", 1000, {"3103": 600, "3301": 400}), years=2)
    settled = municipal_series(model, "refugee_households_settled")
    assert set(settled.columns[(settled.sum() > 0)]) == {"3103", "3301"}
    share_moss = settled["3103"].sum() / settled.sum().sum()
    assert share_moss == pytest.approx(0.6, abs=0.1)


def test_unknown_settlement_rule_is_refused():
    with pytest.raises(ValueError, match="allowed: dispersed, concentrated, quotas"):
        SettlementPolicy("random", 100)


def test_demand_shock_raises_prices_where_it_lands():
    """4 000 extra households a year settled in Moss push Moss prices up, not the others'."""
    base = run(SettlementPolicy("quotas", 0, {}), years=2, seed=6)
    shock = run(SettlementPolicy("quotas", 4000, {"3103": 4000}), years=2, seed=6)
    base_change = municipal_series(base, "price_change")
    shock_change = municipal_series(shock, "price_change")
    assert (shock_change.loc[2024:2025, "3103"] > base_change.loc[2024:2025, "3103"] + 0.015).all()
    gain = (
        municipal_series(shock, "mean_price_nok_per_m2").loc[2026]
        / municipal_series(base, "mean_price_nok_per_m2").loc[2026]
    )
    assert gain["3103"] > gain.median() + 0.02
    assert municipal_series(shock, "vacancy_rate").loc[2026, "3103"] < 0.03


def test_refugee_employment_ramps_up_to_about_65_and_45_percent():
    params = load_parameters(MigrationParameters)
    rng = np.random.default_rng(0)
    n = 200_000
    age = np.full(n, 35, dtype=np.int16)
    sex = np.where(np.arange(n) % 2 == 0, MALE, FEMALE).astype(np.int8)
    first_year = refugee_employment(age, sex, np.zeros(n, dtype=int), params, rng)
    settled = refugee_employment(age, sex, np.full(n, 6), params, rng)
    assert first_year.mean() < 0.1
    assert 0.60 <= settled[sex == MALE].mean() <= 0.70
    assert 0.40 <= settled[sex == FEMALE].mean() <= 0.50
    children = refugee_employment(np.full(10, 10), sex[:10], np.full(10, 6), params, rng)
    assert not children.any()


def test_most_refugees_stay_in_their_settlement_municipality_for_five_years():
    params = load_parameters(MigrationParameters)
    stay_five_years = (1 - params.refugee_leave_municipality_probability) ** 5
    assert stay_five_years == pytest.approx(0.8, abs=0.02)
    model = run(SettlementPolicy("dispersed", 2000), years=2)
    households = model.households
    refugees = np.flatnonzero(households.origin == REFUGEE)
    bound = model.housing_market._refugees_bound(households, refugees)
    assert bound.mean() == pytest.approx(
        1 - params.refugee_leave_municipality_probability, abs=0.03
    )


def test_migration_flows_are_recorded_and_balance(baseline_to_2050):
    model = baseline_to_2050
    for name in ("in_migrants", "out_migrants", "households_moved", "dwellings_built"):
        assert (region_series(model, name) > 0).all(), name
    moved_in = municipal_series(model, "moved_in").sum(axis=1)
    moved_out = municipal_series(model, "moved_out").sum(axis=1)
    assert np.allclose(moved_in, moved_out)
    origins = np.bincount(model.households.origin, minlength=4)
    assert (origins > 0).all()  # residents, domestic in-migrants, labour migrants, refugees


def test_municipal_dwellings_go_to_refugees_and_low_income_households():
    from model.housing.market import municipal_rental_eligible

    model = run(SettlementPolicy("dispersed", 2000), years=3)
    households = model.households
    refugees = households.origin == REFUGEE
    municipal = households.tenure == 3
    assert municipal[refugees].mean() > 0.5  # settled first into municipal dwellings
    assert municipal[refugees].mean() > 5 * municipal[~refugees].mean()
    eligible = municipal_rental_eligible(model.persons, households)
    assert eligible[municipal].mean() > 0.9


def test_at_the_dashboard_scale_the_region_still_follows_the_ssb_projection():
    """At 1 % of households a row stands for ~100 dwellings; cells with less than one row of
    capacity left must still build (stochastically), or the region falls short of housing
    and of the projection (it fell 3.8 % short by 2050 when they could not)."""
    model = RegionModel(seed=1, scale=0.01)
    for _ in range(2024, 2051):  # a run to 2050 simulates the year 2050 too
        model.step()
    model.check_invariants()
    projection = regional_projection(model.bundle, list(model.world.codes))
    population = region_series(model, "population")
    gaps = [abs(population.loc[year] / projection[year] - 1) for year in range(2024, 2051)]
    assert max(gaps) < 0.01, max(gaps)
    # The year 2050 aims at 2051, after SSB's projection ends: its in-migration continues
    # (it was 2 300 against 60 000 the year before when it aimed at nothing).
    in_migrants = region_series(model, "in_migrants")
    assert abs(in_migrants.loc[2050] / in_migrants.loc[2049] - 1) < 0.25


def test_after_the_projection_ends_its_last_growth_continues():
    projection = {2049: 100.0, 2050: 110.0}
    assert projected_population(projection, 2050, 0.0) == 110.0
    assert projected_population(projection, 2051, 0.0) == pytest.approx(121.0)
    assert projected_population(projection, 2052, 0.0) == pytest.approx(133.1)
    assert projected_population(projection, 2040, 7.0) == 7.0  # before it: the fallback
    assert projected_population({2050: 110.0}, 2051, 7.0) == 7.0  # no growth to continue
