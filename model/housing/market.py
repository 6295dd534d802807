"""Sub-model 5, the housing market: who moves, where they go, how prices answer.

Each year:

1. **Movers.** A household moves with the probability of its tenure and the age band of its
   oldest member (``housing_market.toml [moving]``).
2. **Arrivals and leavers.** Households from migration join the market without a
   dwelling, and so do young adults who leave home this year (``household_formation``),
   who look in their home municipality and across the region like movers and stay at
   home if they find nothing. Refugee
   households are settled first by the scenario's settlement rule: ``dispersed`` and
   ``quotas`` into a random vacant dwelling of their settlement municipality, avoiding cells
   where immigrants exceed the allowed share; ``concentrated`` into the cheapest vacant
   dwellings of the region.
3. **Choice.** Every other seeker draws candidate vacant dwellings (some in its own
   municipality, some anywhere) and picks by a multinomial logit (Gumbel-max) on price
   relative to income, accessibility, space for its size, a house for families with
   children, staying in its municipality, the incomes of the cell's households and the
   municipality's constant (its attraction beyond those terms, solved by the calibration
   so that the first years follow each municipality's 2019-2024 growth). Movers
   may also stay. What a household can afford
   depends on its tenure (owners borrow against income, renters pay a rent); municipal
   dwellings go only to households the municipality allocates them to (low income,
   refugees, its tenants), who then become municipal renters. Two seekers
   wanting one dwelling: one wins at random, the other tries again next round; vacated
   dwellings join the vacancies of the next round (chains of moves). Refugees in their
   first years stay in their settlement municipality unless a yearly draw lets them leave.
4. **Prices.** Each cell's prices change with its municipality's vacancy against the
   base-year vacancy and with the demand it saw (seekers choosing it versus its vacancies,
   relative to the region's average pressure).

Arrivals who find no dwelling do not stay; they are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.population import (
    COOP_OWNER,
    DWELLING_TYPE_NAMES,
    IMMIGRANT_ORIGINS,
    MUNICIPAL_RENTER,
    NO_ROW,
    OWNER,
    REFUGEE,
    RENTER,
    Dwellings,
    Households,
    Persons,
    household_sizes,
    oldest_member_age,
    random_vacancies,
    remove_households,
)
from model.household_formation import LeaverFlows, Leavers, return_home
from model.housing.indicators import M2_PER_ROOM, low_income, vacancy_rate
from model.migration import Arrivals, SettlementPolicy
from model.parameters import HousingMarketParameters, MigrationParameters, municipal_values
from model.synthesis.placement import station_access
from model.world import World

HOUSE_TYPES = tuple(
    DWELLING_TYPE_NAMES.index(name) for name in ("row_terraced", "two_family", "detached")
)


@dataclass(frozen=True)
class MarketFlows:
    """The year's market outcome per municipality (full-population units)."""

    movers: np.ndarray  # households that moved, by destination municipality
    moved_in: np.ndarray  # persons moving in from another municipality of the region
    moved_out: np.ndarray  # persons moving out to another municipality of the region
    in_migrants: np.ndarray  # arriving persons housed, by municipality
    in_migrant_households: np.ndarray
    refugee_households_settled: np.ndarray
    refugees_settled: np.ndarray  # persons of the refugee households settled
    households_formed: np.ndarray  # leavers housed, by the municipality of their dwelling
    leavers_without_dwelling: np.ndarray  # leavers who stayed home, by home municipality
    in_migrants_without_dwelling: float  # arriving persons who found no dwelling (region)
    price_change: np.ndarray  # mean relative price change of the municipality's dwellings
    region_price_change: float


class HousingMarket:
    """Movers, arrivals, dwelling choice and price adjustment."""

    def __init__(
        self,
        params: HousingMarketParameters,
        migration: MigrationParameters,
        policy: SettlementPolicy,
        world: World,
        access_per_cell: np.ndarray,
        base_vacancy: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Set up the market.

        ``access_per_cell`` is each cell's accessibility (0-1); ``base_vacancy`` the
        base-year vacancy rate of each municipality, the level at which prices are stable.
        """
        self.params = params
        self.migration = migration
        self.policy = policy
        self.world = world
        self.access = access_per_cell
        self.base_vacancy = base_vacancy
        self.rng = rng
        self.location_constant = municipal_values(params.choice.municipality_constant, world.codes)

    def step(
        self,
        year: int,
        persons: Persons,
        households: Households,
        dwellings: Dwellings,
        arrivals: Arrivals,
        leavers: Leavers | None = None,
    ) -> MarketFlows:
        """Run the year's market on the tables, in place.

        ``leavers`` are this year's young adults leaving home (``household_formation``):
        households without a dwelling that look for one like movers; those who find none go
        back to their parents.
        """
        self.year = year
        n_municipalities = self.world.n_municipalities
        housed_now = households.dwelling != NO_ROW
        movers = np.flatnonzero(self._moving(persons, households, dwellings) & housed_now)
        leaving = leavers.households if leavers is not None else np.zeros(0, dtype=np.int64)
        first_arrival = len(households)
        municipality_before = households.municipality.copy()
        _append_arrivals(persons, households, arrivals)
        arriving = np.arange(first_arrival, len(households))
        refugees = arriving[households.origin[arriving] == REFUGEE]
        others = arriving[households.origin[arriving] != REFUGEE]

        self._eligible = municipal_rental_eligible(persons, households)
        self._has_children = (
            np.bincount(persons.household, persons.age_years < 18, len(households)) > 0
        )
        vacant_before = np.bincount(
            dwellings.cell[dwellings.household == NO_ROW], minlength=self.world.n_cells
        ).astype(float)
        dwelling_before = households.dwelling[movers].copy()
        self._settle_refugees(persons, households, dwellings, refugees)
        demand = self._choose(
            persons, households, dwellings, np.concatenate([movers, leaving, others])
        )
        leaver_flows = (
            return_home(persons, households, leavers, n_municipalities)
            if leavers is not None
            else LeaverFlows(np.zeros(n_municipalities), np.zeros(n_municipalities))
        )
        size = household_sizes(persons, len(households))
        relocated = households.dwelling[movers] != dwelling_before
        moved = np.bincount(
            households.municipality[movers[relocated]],
            households.weight[movers[relocated]],
            n_municipalities,
        )
        changed = np.flatnonzero(municipality_before != households.municipality[:first_arrival])
        persons_changed = (households.weight * size)[changed]
        moved_in = np.bincount(households.municipality[changed], persons_changed, n_municipalities)
        moved_out = np.bincount(municipality_before[changed], persons_changed, n_municipalities)

        unhoused = households.dwelling == NO_ROW
        housed_arrivals = np.zeros(len(households), dtype=bool)
        housed_arrivals[arriving] = ~unhoused[arriving]
        in_migrants = np.bincount(
            households.municipality[housed_arrivals],
            (households.weight * size)[housed_arrivals],
            n_municipalities,
        )
        in_households = np.bincount(
            households.municipality[housed_arrivals],
            households.weight[housed_arrivals],
            n_municipalities,
        )
        settled = housed_arrivals & (households.origin == REFUGEE)
        refugee_households_settled = np.bincount(
            households.municipality[settled], households.weight[settled], n_municipalities
        )
        refugees_settled = np.bincount(
            households.municipality[settled],
            (households.weight * size)[settled],
            n_municipalities,
        )
        without = float((households.weight * size)[arriving[unhoused[arriving]]].sum())
        remove_households(persons, households, dwellings, unhoused)
        value_before = float((dwellings.weight * dwellings.price_nok_per_m2).sum())
        price_change = self._adjust_prices(dwellings, demand, vacant_before)
        value_after = float((dwellings.weight * dwellings.price_nok_per_m2).sum())
        return MarketFlows(
            moved,
            moved_in,
            moved_out,
            in_migrants,
            in_households,
            refugee_households_settled,
            refugees_settled,
            leaver_flows.households_formed,
            leaver_flows.leavers_without_dwelling,
            without,
            price_change,
            value_after / value_before - 1.0,
        )

    # --- who moves -------------------------------------------------------------------------

    def _moving(self, persons: Persons, households: Households, dwellings: Dwellings) -> np.ndarray:
        """Households that move this year: by tenure and age, more if crowded."""
        moving = self.params.moving
        oldest = oldest_member_age(persons, len(households))
        band = np.searchsorted(moving.age_from_years, oldest, side="right") - 1
        band = np.clip(band, 0, None)
        renter = np.asarray(moving.renter_probability)[band]
        owner = np.asarray(moving.owner_probability)[band]
        probability = np.where(households.tenure == RENTER, renter, owner)
        size = household_sizes(persons, len(households))
        housed = households.dwelling != NO_ROW
        rooms = np.ones(len(households))
        area = dwellings.floor_area_m2[households.dwelling[housed]]
        rooms[housed] = np.maximum(1.0, np.floor(area / M2_PER_ROOM))
        probability = probability + np.where(size > rooms, moving.crowded_extra_probability, 0.0)
        return self.rng.random(len(households)) < probability

    # --- refugees ---------------------------------------------------------------------------

    def _settle_refugees(
        self,
        persons: Persons,
        households: Households,
        dwellings: Dwellings,
        refugees: np.ndarray,
    ) -> None:
        if len(refugees) == 0:
            return
        vacant = np.flatnonzero(dwellings.household == NO_ROW)
        if self.policy.rule == "concentrated":
            total_price = dwellings.price_nok_per_m2[vacant] * dwellings.floor_area_m2[vacant]
            cheapest = vacant[np.argsort(total_price, kind="stable")[: len(refugees)]]
            _occupy(households, dwellings, refugees[: len(cheapest)], cheapest)
            return
        municipal = dwellings.municipal_rental[vacant]
        allowed = (
            self._immigrant_share_by_cell(persons, households, dwellings)[dwellings.cell[vacant]]
            <= self.migration.settlement_immigrant_share_max
        )
        # municipal dwellings in allowed cells first, then any allowed cell, then any cell
        for candidates in (vacant[allowed & municipal], vacant[allowed], vacant):
            waiting = refugees[households.dwelling[refugees] == NO_ROW]
            if len(waiting) == 0:
                return
            candidates = candidates[dwellings.household[candidates] == NO_ROW]
            chosen = random_vacancies(
                households.municipality[waiting], candidates, dwellings, self.rng
            )
            ok = chosen != NO_ROW
            _occupy(households, dwellings, waiting[ok], chosen[ok])

    def _immigrant_share_by_cell(
        self, persons: Persons, households: Households, dwellings: Dwellings
    ) -> np.ndarray:
        housed = households.dwelling[persons.household]
        placed = housed != NO_ROW
        cell = dwellings.cell[housed[placed]]
        immigrant = np.isin(households.origin[persons.household[placed]], IMMIGRANT_ORIGINS)
        everyone = np.bincount(cell, minlength=self.world.n_cells)
        immigrants = np.bincount(cell, immigrant, minlength=self.world.n_cells)
        return np.divide(immigrants, everyone, out=np.zeros(self.world.n_cells), where=everyone > 0)

    # --- choice -----------------------------------------------------------------------------

    def _choose(
        self,
        persons: Persons,
        households: Households,
        dwellings: Dwellings,
        seekers: np.ndarray,
    ) -> np.ndarray:
        """Rounds of logit choice; returns the first-round demand per cell (weighted)."""
        choice = self.params.choice
        size = household_sizes(persons, len(households)).astype(float)
        cell_income = self._cell_mean_income(households, dwellings)
        demand = np.zeros(self.world.n_cells)
        stay_municipality = self._refugees_bound(households, seekers)
        waiting = seekers
        for round_number in range(choice.rounds):
            if len(waiting) == 0:
                break
            vacant = np.flatnonzero(dwellings.household == NO_ROW)
            if len(vacant) == 0:
                break
            candidates = self._candidates(households, dwellings, waiting, vacant)
            utility = self._utility(households, dwellings, waiting, candidates, size, cell_income)
            bound = stay_municipality[np.searchsorted(seekers, waiting)] if len(seekers) else None
            if bound is not None and bound.any():
                other = dwellings.municipality[candidates] != households.municipality[waiting, None]
                utility[bound[:, None] & other] = -np.inf
            utility += self.rng.gumbel(size=utility.shape)
            best = np.argmax(utility, axis=1)
            best_utility = utility[np.arange(len(waiting)), best]
            current = households.dwelling[waiting]
            stay_utility = np.full(len(waiting), -np.inf)
            has_home = current != NO_ROW
            if has_home.any():
                stay_utility[has_home] = (
                    self._utility(
                        households,
                        dwellings,
                        waiting[has_home],
                        current[has_home, None],
                        size,
                        cell_income,
                    )[:, 0]
                    + choice.stay_bonus
                    + self.rng.gumbel(size=int(has_home.sum()))
                )
            wants = np.isfinite(best_utility) & (best_utility > stay_utility)
            chosen = candidates[np.arange(len(waiting)), best]
            if round_number == 0:
                np.add.at(demand, dwellings.cell[chosen[wants]], households.weight[waiting[wants]])
            winners = _first_claims(chosen, wants, self.rng)
            old = households.dwelling[waiting[winners]]
            dwellings.household[old[old != NO_ROW]] = NO_ROW
            _occupy(households, dwellings, waiting[winners], chosen[winners])
            waiting = waiting[wants & ~winners]
        return demand

    def _refugees_bound(self, households: Households, seekers: np.ndarray) -> np.ndarray:
        """Refugee movers in their first years who must stay in their municipality."""
        years = self.year - households.arrival_year[seekers]
        bound = (households.origin[seekers] == REFUGEE) & (
            years < self.migration.refugee_stay_years
        )
        leave = (
            self.rng.random(len(seekers)) < self.migration.refugee_leave_municipality_probability
        )
        return bound & ~leave

    def _candidates(
        self,
        households: Households,
        dwellings: Dwellings,
        waiting: np.ndarray,
        vacant: np.ndarray,
    ) -> np.ndarray:
        """(seekers, candidates) vacant dwelling rows: local ones, then region-wide ones."""
        choice = self.params.choice
        n = len(waiting)
        region = vacant[self.rng.integers(0, len(vacant), (n, choice.candidates_region))]
        by_municipality = vacant[np.argsort(dwellings.municipality[vacant], kind="stable")]
        sorted_municipality = dwellings.municipality[by_municipality]
        home = households.municipality[waiting]
        first = np.searchsorted(sorted_municipality, home, side="left")
        count = np.searchsorted(sorted_municipality, home, side="right") - first
        pick = first[:, None] + np.floor(
            self.rng.random((n, choice.candidates_local)) * np.maximum(count, 1)[:, None]
        ).astype(np.int64)
        local = by_municipality[np.clip(pick, 0, len(by_municipality) - 1)]
        local = np.where((count > 0)[:, None], local, region[:, :1])
        return np.concatenate([local, region], axis=1)

    def _utility(
        self,
        households: Households,
        dwellings: Dwellings,
        seekers: np.ndarray,
        candidates: np.ndarray,
        size: np.ndarray,
        cell_income: np.ndarray,
    ) -> np.ndarray:
        choice = self.params.choice
        income = households.income_nok[seekers, None]
        area = dwellings.floor_area_m2[candidates].astype(float)
        price = dwellings.price_nok_per_m2[candidates] * area
        cell = dwellings.cell[candidates]
        needed = choice.space_m2_base + choice.space_m2_per_person * size[seekers, None]
        utility = (
            -choice.beta_cost_to_income * price / income
            + choice.beta_access * self.access[cell]
            - choice.beta_space * np.abs(np.log(area / needed))
            + choice.beta_same_municipality
            * (dwellings.municipality[candidates] == households.municipality[seekers, None])
            - choice.beta_income_mix * np.abs(np.log(income / cell_income[cell]))
            + choice.beta_family_house
            * self._has_children[seekers, None]
            * np.isin(dwellings.dwelling_type[candidates], HOUSE_TYPES)
            + self.location_constant[dwellings.municipality[candidates]]
        )
        tenure = households.tenure[seekers, None]
        owner = (tenure == OWNER) | (tenure == COOP_OWNER)
        affordable = np.where(
            owner,
            price <= choice.owner_max_price_to_income * income,
            choice.rent_yield_per_year * price <= choice.renter_max_cost_share * income,
        )
        # Municipal dwellings: let at a cost the household can carry, only to those the
        # municipality allocates them to (low income, refugees, its present tenants).
        municipal = dwellings.municipal_rental[candidates]
        affordable = np.where(municipal, self._eligible[seekers, None], affordable)
        return np.where(affordable, utility, -np.inf)

    def _cell_mean_income(self, households: Households, dwellings: Dwellings) -> np.ndarray:
        housed = households.dwelling != NO_ROW
        cell = dwellings.cell[households.dwelling[housed]]
        total = np.bincount(cell, households.income_nok[housed], self.world.n_cells)
        count = np.bincount(cell, minlength=self.world.n_cells)
        regional = float(np.median(households.income_nok[housed]))
        return np.divide(total, count, out=np.full(self.world.n_cells, regional), where=count > 0)

    # --- prices -----------------------------------------------------------------------------

    def _adjust_prices(
        self, dwellings: Dwellings, demand: np.ndarray, vacant_before: np.ndarray
    ) -> np.ndarray:
        prices = self.params.prices
        n_municipalities = self.world.n_municipalities
        stock = np.bincount(dwellings.municipality, dwellings.weight, n_municipalities)
        vacancy = vacancy_rate(dwellings, n_municipalities)
        municipal = prices.vacancy_response * (self.base_vacancy - vacancy)
        weight = float(dwellings.weight.mean())
        pressure = np.log((demand / weight + 1.0) / (vacant_before + 1.0))
        # Demand is relative: the region-wide level of prices follows vacancy, while demand
        # shifts prices between cells (mean pressure over the dwelling stock is removed).
        stock_per_cell = np.bincount(dwellings.cell, minlength=len(pressure))
        pressure -= np.average(pressure, weights=np.maximum(stock_per_cell, 1e-9))
        change = municipal[self.world.cell_municipality] + prices.demand_response * pressure
        change = np.clip(change, -prices.max_change_per_year, prices.max_change_per_year)
        factor = np.exp(change)[dwellings.cell]
        dwellings.price_nok_per_m2 *= factor
        growth = np.bincount(dwellings.municipality, dwellings.weight * factor, n_municipalities)
        return np.divide(growth, stock, out=np.ones(n_municipalities), where=stock > 0) - 1.0


def municipal_rental_eligible(persons: Persons, households: Households) -> np.ndarray:
    """Households a municipality may let its dwellings to: low income, refugees, tenants."""
    size = household_sizes(persons, len(households))
    return (
        low_income(persons, households, size)
        | (households.origin == REFUGEE)
        | (households.tenure == MUNICIPAL_RENTER)
    )


def accessibility(world: World, params: HousingMarketParameters, placement) -> np.ndarray:
    """Base-year accessibility of every land cell, 0-1: distance to Oslo S and the station term.

    Rail projects move it later (``travel_adjusted_access``).
    """
    from model.geo import lonlat_to_utm33

    oslo_e, oslo_n = lonlat_to_utm33(10.7528, 59.9110)
    easting, northing = world.cell_centre_m()
    distance_km = np.hypot(easting - oslo_e, northing - oslo_n) / 1000.0
    stations = station_access(world, placement)
    stations = stations / stations.max() if stations.max() > 0 else stations
    access = np.exp(-distance_km / params.choice.access_decay_km)
    access += params.choice.access_station_weight * stations
    return access / access.max()


def access_elasticity(access: np.ndarray, job_access: np.ndarray, population: np.ndarray) -> float:
    """The elasticity of the housing choice's accessibility to job accessibility.

    The slope of ``log(access)`` on ``log(job_access)`` across the populated cells of the
    base year, weighted by population: how much more accessible (in the housing choice's
    terms) the region's own geography makes a cell that reaches 1 % more jobs.
    """
    cells = (population > 0) & (access > 0) & (job_access > 0)
    if cells.sum() < 2:
        return 0.0
    x, y, weight = np.log(job_access[cells]), np.log(access[cells]), population[cells]
    x_mean, y_mean = np.average(x, weights=weight), np.average(y, weights=weight)
    variance = np.average((x - x_mean) ** 2, weights=weight)
    if variance <= 0:
        return 0.0
    return float(np.average((x - x_mean) * (y - y_mean), weights=weight) / variance)


def travel_adjusted_access(
    access_base: np.ndarray, job_access_ratio: np.ndarray, elasticity: float
) -> np.ndarray:
    """The base-year accessibility moved by what the open rail projects do to job access.

    ``access_base * job_access_ratio ** elasticity``: a project that brings a cell 25 % more
    jobs within reach raises its accessibility by ``1.25 ** elasticity``; cells whose travel
    times it does not change keep their base-year value.
    """
    return access_base * np.asarray(job_access_ratio, dtype=float) ** elasticity


def _append_arrivals(persons: Persons, households: Households, arrivals: Arrivals) -> None:
    offset = len(households)
    arrivals.persons.household = (arrivals.persons.household + offset).astype(np.int32)
    persons.append(arrivals.persons)
    households.append(arrivals.households)


def _occupy(
    households: Households, dwellings: Dwellings, rows: np.ndarray, dwelling_rows: np.ndarray
) -> None:
    """Move households ``rows`` into ``dwelling_rows``; tenure follows a municipal dwelling."""
    households.dwelling[rows] = dwelling_rows
    households.municipality[rows] = dwellings.municipality[dwelling_rows]
    dwellings.household[dwelling_rows] = rows
    municipal = dwellings.municipal_rental[dwelling_rows]
    households.tenure[rows[municipal]] = MUNICIPAL_RENTER
    left_municipal = ~municipal & (households.tenure[rows] == MUNICIPAL_RENTER)
    households.tenure[rows[left_municipal]] = RENTER


def _first_claims(chosen: np.ndarray, wants: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One winner per claimed dwelling, at random among those who want it."""
    order = rng.permutation(len(chosen))
    order = order[wants[order]]
    _, first = np.unique(chosen[order], return_index=True)
    winners = np.zeros(len(chosen), dtype=bool)
    winners[order[first]] = True
    return winners
