"""Energy stations, climate budgets and fleet stocks on their own."""

from __future__ import annotations

import mesa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.climate_budget import ClimateBudget
from agents.energy_station import OPERATING, WAITING_FOR_GRID, EnergyStation
from model.emissions.fleet import FleetStock, initial_shares_by_centrality
from model.emissions.parameters import load_emission_parameters


def station(power_mw: float = 4.0, carriers=("electricity",), start: int = 2026) -> EnergyStation:
    return EnergyStation(
        mesa.Model(rng=1), "s", 0, 0, 0.0, 0.0, carriers, 8, power_mw, 500.0, 0.0, start
    )


def test_a_station_waits_for_its_year_and_for_the_grid():
    s = station()
    assert not s.try_start(2025, spare_mw=100.0, peak_share=0.6) and not s.operating
    assert not s.try_start(2026, spare_mw=2.0, peak_share=0.6)  # needs 2.4 MW
    assert s.status == WAITING_FOR_GRID and s.availability == 0.0
    assert s.try_start(2027, spare_mw=2.4, peak_share=0.6)
    assert s.status == OPERATING and s.connected_year == 2027


def test_a_station_without_electricity_needs_no_grid():
    s = station(power_mw=0.0, carriers=("hydrogen",))
    assert s.try_start(2026, spare_mw=0.0, peak_share=0.6)


def test_an_overused_station_turns_trucks_away_in_proportion():
    s = station(carriers=("electricity", "hydrogen"))
    s.try_start(2026, 10.0, 0.6)
    capacity = s.capacity("electricity", 0.3)
    assert capacity == pytest.approx(4.0 * 8760 * 0.3)
    s.serve({"electricity": 0.5 * capacity, "hydrogen": 365 * 500.0 * 2}, 0.3)
    assert s.utilisation == pytest.approx(2.0)  # hydrogen is the binding carrier
    assert s.availability == pytest.approx(0.5)


def test_climate_budget_target_path_is_linear_between_the_cuts():
    budget = ClimateBudget(2009, 1000.0, (2030, 2050), (0.55, 0.9))
    assert budget.target_co2e_tonnes(2009) == 1000.0
    assert budget.target_co2e_tonnes(2030) == pytest.approx(450.0)
    assert budget.target_co2e_tonnes(2040) == pytest.approx(275.0)
    assert budget.target_co2e_tonnes(2060) == pytest.approx(100.0)
    budget.record(2030, 600.0, 700.0)
    assert budget.gap_co2e_tonnes(2030) == pytest.approx(150.0)


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.floats(0, 1e5), min_size=3, max_size=3),
    years=st.integers(1, 6),
    new_share=st.lists(st.floats(0.01, 1), min_size=4, max_size=4),
)
def test_fleet_turnover_meets_the_target_and_keeps_shares_valid(targets, years, new_share):
    heavy = load_emission_parameters().fleet.heavy
    share = np.asarray(new_share) / np.sum(new_share)
    fleet = FleetStock(heavy, np.tile([0.9, 0.05, 0.04, 0.01], (3, 1)))
    fleet.set_size(np.array([1000.0, 10.0, 0.0]))
    for _ in range(years):
        fleet.turnover(np.asarray(targets), share)
        assert np.allclose(fleet.vehicles.sum(axis=1), targets, rtol=1e-9, atol=1e-6)
        assert (fleet.vehicles >= -1e-9).all() and (fleet.new_vehicles >= -1e-9).all()
        assert np.allclose(fleet.shares().sum(axis=1), 1.0)


def test_a_fleet_renewed_with_zero_emission_vehicles_emits_less_per_km():
    cars = load_emission_parameters().fleet.cars
    fleet = FleetStock(cars, np.array([[0.3, 0.2, 0.1, 0.0, 0.4]]))
    fleet.set_size(np.array([100.0]))
    before = fleet.co2e_g_per_km(0.1)[0]
    fleet.turnover(np.array([100.0]), np.array([0, 0, 0, 0, 1.0]))
    assert fleet.co2e_g_per_km(0.1)[0] < before
    assert fleet.share_of(("electric",), new=True)[0] == 1.0


def test_initial_shares_scale_zero_emission_by_centrality():
    shares = initial_shares_by_centrality(
        np.array([0.3, 0.2, 0.5]),
        np.array([False, False, True]),
        np.array([1, 5]),
        (1.0, 0.9, 0.8, 0.7, 0.6, 0.5),
    )
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert shares[0, 2] == pytest.approx(0.5) and shares[1, 2] == pytest.approx(0.3)
    assert shares[1, 0] / shares[1, 1] == pytest.approx(1.5)  # Oslo's proportions kept
