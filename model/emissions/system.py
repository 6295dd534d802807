"""Freight, fleets, energy stations, power and the emissions ledger of one year (steps 8-10).

``EnergyAndEmissions.step`` runs after the commute mode choice:

1. vehicle-km on the roads of each municipality, by class (``road_traffic.toml``): cars
   from the commutes spread along their lines, vans and heavy vehicles from the jobs by
   sector, through traffic on the corridors, buses from residents and the frequency lever;
   each class times its calibration factor (``emissions_calibration.toml``);
2. fleet turnover by class (``fleet.toml``); new heavy vehicles choose their carrier by the
   coverage of their routes by operating energy stations;
3. road emissions = vehicle-km x the g CO2e per km of the fleet driving there; the other
   sectors follow their trends (``model.emissions.ledger``);
4. electricity for vehicles; planned stations whose year has come connect if the
   municipality's grid headroom allows, and operating stations serve the public share of
   zero-emission trucks' energy and record their utilisation;
5. every municipality's climate budget records the year: measure path (this run),
   reference path (the baseline run, if given), target and gap.

The fleet of year Y is the stock at the end of Y (SSB 07849's convention), so the base year
uses the base-year stock and turnover starts the year after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mesa
import numpy as np
import pandas as pd

from agents.climate_budget import ClimateBudget
from agents.energy_station import EnergyStation
from agents.municipality import Municipality
from model.bundle import Bundle, BundleError
from model.emissions.fleet import FleetStock, initial_shares_by_centrality
from model.emissions.geometry import km_by_municipality, line_shares, road_points
from model.emissions.ledger import (
    LEDGER_COLUMNS,
    MODEL,
    OSLO,
    other_sectors,
    ratio_to_reference_year,
    read_statistics,
)
from model.emissions.parameters import (
    ROAD_SECTOR,
    ROAD_SOURCES,
    SITING_RULES,
    STATION_CARRIERS,
    VEHICLE_CLASSES,
    EmissionParameters,
)
from model.emissions.stations import (
    HUB_SECTORS,
    EnergyLevers,
    corridor_sites,
    coverage,
    heavy_routes,
    hub_sites,
    site_cell,
    station_demand,
)
from model.housing.prices import read_centrality_class
from model.tables import Block, frame_from_blocks
from model.world import World

CARS_FILE = "private_cars_by_fuel.csv"
# SSB 07849's fuel categories mapped onto the car fleet's carriers.
CAR_FUELS = {
    "Petrol": "petrol",
    "Diesel": "diesel",
    "Other fuel": "hybrid",
    "Gas": "gas",
    "Paraffin": "petrol",
    "Electricity": "electric",
}
DAYS_PER_YEAR = 365.0
FLEET_COLUMNS = (
    "year",
    "group",
    "through_traffic",
    "vehicle_class",
    "energy_carrier",
    "vehicles",
    "new_vehicles",
)
HOURS_PER_YEAR = 8760.0

ENERGY_UNITS = {
    **{f"vehicle_km_{name}": "vehicle_km" for name in VEHICLE_CLASSES},
    **{f"co2e_road_{name}_tonnes": "co2e_tonnes" for name in VEHICLE_CLASSES},
    "co2e_road_tonnes": "co2e_tonnes",
    "co2e_total_tonnes": "co2e_tonnes",
    "electric_share_cars": "share",
    "zero_emission_share_vans": "share",
    "zero_emission_share_heavy": "share",
    "zero_emission_share_new_heavy": "share",
    "zero_emission_share_buses": "share",
    "power_demand_mwh": "MWh",
    "power_peak_mw": "MW",
    "grid_headroom_mw": "MW",
    "power_deficit_mw": "MW",
    "energy_stations_operating": "stations",
    "climate_target_co2e_tonnes": "co2e_tonnes",
    "climate_reference_co2e_tonnes": "co2e_tonnes",
    "climate_gap_co2e_tonnes": "co2e_tonnes",
}


@dataclass(frozen=True)
class ClimateReference:
    """The baseline run a scenario's climate budgets compare with."""

    totals_co2e_tonnes: Mapping[int, Mapping[str, float]]  # year -> kommunenummer -> t
    reference_year_co2e_tonnes: Mapping[str, float]  # kommunenummer -> the target's anchor


class EnergyAndEmissions:
    """Road traffic, fleets, energy stations, power and the ledger (see the module doc)."""

    def __init__(
        self,
        model: mesa.Model,
        world: World,
        bundle: Bundle,
        municipalities: list[Municipality],
        params: EmissionParameters,
        levers: EnergyLevers,
        firms_cell: np.ndarray,
        firms_hub_km: np.ndarray,
        population: np.ndarray,
        jobs: np.ndarray,
        pt_frequency_factor: float = 1.0,
        reference: ClimateReference | None = None,
    ) -> None:
        """Place the corridors, the fleets and the stations of the base year.

        ``firms_cell`` and ``firms_hub_km`` (heavy-vehicle km of hub sectors per firm) site
        stations by the logistics-hub rules; ``population`` and ``jobs`` are the base year's
        per municipality. ``reference`` is the baseline run's emissions and climate-budget
        anchors (``None``: this run is its own reference, as the baseline is).
        """
        self.world, self.params, self.levers = world, params, levers
        self.municipalities = municipalities
        self.base_year = bundle.base_year
        self.pt_frequency_factor = pt_frequency_factor
        self.reference = reference
        n = world.n_municipalities
        self.codes = world.codes
        self.oslo = self.codes.index(OSLO) if OSLO in self.codes else None
        self.centrality = read_centrality_class(bundle).reindex(self.codes).to_numpy(int)
        road = params.road
        self.car_line_shares = line_shares(world, road.line_samples)
        self.corridor_points = [
            road_points(world, c.waypoints_lat, c.waypoints_lon) for c in road.corridors
        ]
        self.corridor_km = np.array(
            [km_by_municipality(points, n) for points in self.corridor_points]
        ).reshape(len(road.corridors), n)
        self.statistics = read_statistics(bundle)
        self.other = other_sectors(self.statistics, params.ledger, self.base_year)
        self.base_population = np.asarray(population, dtype=float)
        self.base_jobs = np.asarray(jobs, dtype=float)
        self.cars_per_resident = self._cars_per_resident(bundle)
        self.fleets = self._initial_fleets(bundle)
        self.headroom_base_mw = self._headroom_base_mw()
        self.stations = self._place_stations(model, firms_cell, firms_hub_km)
        self._vehicle_peak_mw = np.zeros(n)
        self._ledger: list[pd.DataFrame] = []
        self._station_rows: list[dict] = []
        self._fleet_rows: list[Block] = []
        self.new_heavy_shares = np.zeros((n + len(road.corridors), 4))

    # --- set-up ---------------------------------------------------------------------------

    def _cars_per_resident(self, bundle: Bundle) -> np.ndarray:
        ratio = np.full(
            self.world.n_municipalities,
            self.params.fleet.car_ownership.cars_per_resident_outside_oslo,
        )
        if self.oslo is not None:
            cars = self._oslo_cars(bundle)
            ratio[self.oslo] = cars.sum() / self.base_population[self.oslo]
        return ratio

    def _oslo_cars(self, bundle: Bundle) -> np.ndarray:
        """Oslo's private cars at the end of the base year by fleet carrier (SSB 07849)."""
        table = bundle[CARS_FILE]
        rows = table[(table["kommunenummer"] == OSLO) & (table["year"] == self.base_year)]
        unknown = sorted(set(rows["fuel"]) - set(CAR_FUELS))
        if rows.empty or unknown:
            raise BundleError(
                f"{bundle.path / CARS_FILE}: needs Oslo's rows for {self.base_year} with "
                f"column 'fuel' in {', '.join(CAR_FUELS)}"
            )
        carriers = self.params.fleet.cars.carriers
        cars = np.zeros(len(carriers))
        for fuel, count in zip(rows["fuel"], rows["private_cars"], strict=True):
            cars[carriers.index(CAR_FUELS[fuel])] += count
        return cars

    def _initial_fleets(self, bundle: Bundle) -> dict[str, FleetStock]:
        fleet = self.params.fleet
        corridors = len(self.corridor_points)
        fleets = {}
        for name in VEHICLE_CLASSES:
            vehicle = fleet.vehicle_class(name)
            if name == "cars":
                oslo = self._oslo_cars(bundle)
                oslo_share = oslo / oslo.sum()
            else:
                oslo_share = np.asarray(fleet.initial_share[name], dtype=float)
            zero = np.isin(vehicle.carriers, vehicle.zero_emission)
            shares = initial_shares_by_centrality(
                oslo_share, zero, self.centrality, fleet.zero_emission_share_by_centrality
            )
            if name == "heavy":  # through traffic: the region's mean mix
                shares = np.vstack([shares, np.tile(shares.mean(axis=0), (corridors, 1))])
            fleets[name] = FleetStock(vehicle, shares)
        return fleets

    def _place_stations(
        self, model: mesa.Model, firms_cell: np.ndarray, firms_hub_km: np.ndarray
    ) -> list[EnergyStation]:
        levers, world = self.levers, self.world
        centre_e, centre_n = world.cell_centre_m()
        planned: list[tuple[str, int, object, int]] = []
        for plan in levers.stations:
            planned.append(
                (
                    plan.name,
                    site_cell(world, plan.lat, plan.lon, plan.name),
                    plan.spec,
                    plan.start_year,
                )
            )
        if levers.station_count > 0:
            if levers.siting not in SITING_RULES:
                raise ValueError(
                    f"siting '{levers.siting}' is unknown; allowed: {', '.join(SITING_RULES)}"
                )
            hub_km = np.bincount(firms_cell, firms_hub_km, world.n_cells)
            separation = self.params.stations.siting.hub_separation_km
            if levers.siting == "corridors":
                cells = corridor_sites(world, self.corridor_points, levers.station_count)
            elif levers.siting == "logistics_hubs":
                cells = hub_sites(world, hub_km, levers.station_count, separation)
            else:
                cells = self._grid_capacity_sites(hub_km, levers.station_count, separation)
            spec = self.params.stations.default_station
            for i, cell in enumerate(cells):
                planned.append((f"{levers.siting}-{i + 1}", cell, spec, levers.siting_start_year))
        stations = []
        for name, cell, spec, start in planned:
            stations.append(
                EnergyStation(
                    model,
                    name,
                    int(cell),
                    int(world.cell_municipality[cell]),
                    float(centre_e[cell]),
                    float(centre_n[cell]),
                    spec.carriers,
                    spec.charge_points,
                    spec.power_mw,
                    spec.hydrogen_kg_per_day,
                    spec.biogas_kg_per_day,
                    start,
                )
            )
        return stations

    def _grid_capacity_sites(self, hub_km: np.ndarray, count: int, separation: float) -> list[int]:
        """Logistics hubs, skipping municipalities whose headroom cannot take one more."""
        spare = self.headroom_mw(self.levers.siting_start_year)
        draw = (
            self.params.stations.default_station.power_mw
            * self.params.stations.grid.station_peak_share
        )
        cells: list[int] = []
        for cell in hub_sites(self.world, hub_km, self.world.n_cells, separation):
            municipality = self.world.cell_municipality[cell]
            if spare[municipality] >= draw:
                cells.append(cell)
                spare[municipality] -= draw
            if len(cells) == count:
                break
        return cells

    def _headroom_growth(self) -> float:
        if self.levers.headroom_growth_per_year is not None:
            return self.levers.headroom_growth_per_year
        return self.params.stations.grid.headroom_growth_per_year

    def _headroom_base_mw(self) -> np.ndarray:
        grid = self.params.stations.grid
        kw = np.full(self.world.n_municipalities, grid.headroom_kw_per_resident)
        if self.oslo is not None:
            kw[self.oslo] = grid.headroom_kw_per_resident_oslo
        headroom = kw * self.base_population / 1000.0
        for code, mw in self.levers.headroom_mw.items():
            headroom[self.codes.index(code)] = mw
        return headroom

    def headroom_mw(self, year: int) -> np.ndarray:
        """Grid headroom for transport loads in ``year``, MW per municipality."""
        return self.headroom_base_mw * (1.0 + self._headroom_growth()) ** (year - self.base_year)

    # --- the yearly step ------------------------------------------------------------------

    def vehicle_km(
        self,
        car_vehicle_km_by_pair: np.ndarray,
        firms_municipality: np.ndarray,
        firms_jobs: np.ndarray,
        firms_sector: np.ndarray,
        population: np.ndarray,
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Vehicle-km on each municipality's roads by class; heavy local and by corridor.

        Returns (km by class, heavy local km by municipality, heavy km corridors x
        municipalities), all after the calibration factors.
        """
        road, factor = self.params.road, self.params.calibration.vehicle_km_factor
        n = self.world.n_municipalities
        through = {
            name: np.array([getattr(c, f"{name}_per_day") for c in road.corridors]) * DAYS_PER_YEAR
            for name in ("cars", "vans", "heavy")
        }
        commute = np.asarray(car_vehicle_km_by_pair, dtype=float).ravel() @ self.car_line_shares
        cars = commute / road.commute_share_of_car_km + through["cars"] @ self.corridor_km
        jobs = np.asarray(firms_jobs, dtype=float)
        vans = (
            np.bincount(firms_municipality, jobs * self.params.van_km_per_job_year[firms_sector], n)
            + through["vans"] @ self.corridor_km
        )
        heavy_local = np.bincount(
            firms_municipality, jobs * self.params.heavy_km_per_job_year[firms_sector], n
        )
        heavy_corridor = through["heavy"][:, None] * self.corridor_km
        bus_km = np.asarray(road.bus_km_per_resident_by_centrality)[self.centrality - 1]
        buses = bus_km * population * self.pt_frequency_factor
        heavy_local *= factor["heavy"]
        heavy_corridor = heavy_corridor * factor["heavy"]
        km = {
            "cars": cars * factor["cars"],
            "vans": vans * factor["vans"],
            "heavy": heavy_local + heavy_corridor.sum(axis=0),
            "buses": buses * factor["buses"],
        }
        return km, heavy_local, heavy_corridor

    def step(
        self,
        year: int,
        car_vehicle_km_by_pair: np.ndarray,
        firms_municipality: np.ndarray,
        firms_cell: np.ndarray,
        firms_jobs: np.ndarray,
        firms_sector: np.ndarray,
        population: np.ndarray,
        jobs: np.ndarray,
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """One year; indicators by municipality and the region's shares."""
        n = self.world.n_municipalities
        km, heavy_local, heavy_corridor = self.vehicle_km(
            car_vehicle_km_by_pair, firms_municipality, firms_jobs, firms_sector, population
        )
        heavy_km_per_cell = np.bincount(
            firms_cell,
            np.asarray(firms_jobs, float) * self.params.heavy_km_per_job_year[firms_sector],
            self.world.n_cells,
        )
        routes = heavy_routes(
            self.world, heavy_km_per_cell, self.corridor_points, self.params.stations
        )
        heavy_groups_km = np.concatenate([heavy_local, heavy_corridor.sum(axis=1)])
        self._turn_over(year, km, population, heavy_groups_km, routes)
        emissions = self._road_emissions(year, km, heavy_local, heavy_corridor)
        energy_mwh, public = self._vehicle_electricity(km, heavy_local, heavy_corridor)
        self._start_stations(year, energy_mwh)
        self._serve(routes, public)
        station_mw = np.zeros(n)
        station_mwh = np.zeros(n)
        grid = self.params.stations.grid
        for station in self.stations:
            if station.operating:
                station_mw[station.municipality] += station.peak_draw_mw(grid.station_peak_share)
                station_mwh[station.municipality] += station.energy_mwh
        peak = energy_mwh / HOURS_PER_YEAR * grid.charging_peak_factor + station_mw
        headroom = self.headroom_mw(year)
        ledger = self._ledger_rows(year, emissions, population, jobs)
        self._ledger.append(ledger)
        total = np.bincount(
            ledger["kommunenummer"].map({c: i for i, c in enumerate(self.codes)}).to_numpy(),
            ledger["co2e_tonnes"].to_numpy(float),
            n,
        )
        budget = self._track_budgets(year, ledger, total)
        self._record_tables(year)
        heavy = self.params.fleet.heavy
        zero = [heavy.carriers.index(c) for c in heavy.zero_emission]
        new_heavy = self.new_heavy_shares[:, zero].sum(axis=1)  # of the year's purchases
        indicators = {
            **{f"vehicle_km_{name}": km[name] for name in VEHICLE_CLASSES},
            **{f"co2e_road_{name}_tonnes": emissions[name] for name in VEHICLE_CLASSES},
            "co2e_road_tonnes": sum(emissions[name] for name in VEHICLE_CLASSES),
            "co2e_total_tonnes": total,
            "electric_share_cars": self.fleets["cars"].share_of(("electric",)),
            "zero_emission_share_vans": self._ze("vans")[:n],
            "zero_emission_share_heavy": self._ze("heavy")[:n],
            "zero_emission_share_new_heavy": new_heavy[:n],
            "zero_emission_share_buses": self._ze("buses")[:n],
            "power_demand_mwh": energy_mwh + station_mwh,
            "power_peak_mw": peak,
            "grid_headroom_mw": headroom,
            "power_deficit_mw": np.maximum(peak - headroom, 0.0),
            "energy_stations_operating": np.bincount(
                [s.municipality for s in self.stations if s.operating], minlength=n
            ).astype(float),
            **budget,
        }
        region = {
            "electric_share_cars": self._region_share("cars", ("electric",)),
            "zero_emission_share_vans": self._region_share("vans"),
            "zero_emission_share_heavy": self._region_share("heavy"),
            "zero_emission_share_new_heavy": float(np.average(new_heavy, weights=heavy_groups_km))
            if heavy_groups_km.sum() > 0
            else 0.0,
            "zero_emission_share_buses": self._region_share("buses"),
        }
        return indicators, region

    def _ze(self, name: str) -> np.ndarray:
        fleet = self.fleets[name]
        return fleet.share_of(fleet.vehicle_class.zero_emission)

    def _region_share(self, name: str, carriers: tuple[str, ...] | None = None) -> float:
        fleet = self.fleets[name]
        table = fleet.vehicles
        columns = [fleet.carriers.index(c) for c in carriers or fleet.vehicle_class.zero_emission]
        total = table.sum()
        return float(table[:, columns].sum() / total) if total > 0 else 0.0

    def _turn_over(
        self,
        year: int,
        km: dict[str, np.ndarray],
        population: np.ndarray,
        heavy_groups_km: np.ndarray,
        routes,
    ) -> None:
        fleet_params = self.params.fleet
        targets = {
            "cars": self.cars_per_resident * population,
            "vans": km["vans"] / fleet_params.vans.km_per_vehicle_year,
            "heavy": heavy_groups_km / fleet_params.heavy.km_per_vehicle_year,
            "buses": km["buses"] / fleet_params.buses.km_per_vehicle_year,
        }
        heavy_share = self.heavy_new_shares(year, routes)
        for name, fleet in self.fleets.items():
            if year <= self.base_year:
                fleet.set_size(targets[name])
                continue
            if name == "heavy":
                share = heavy_share
            else:
                share = fleet_params.new_vehicles[name].at(year)
            fleet.turnover(targets[name], share)

    def heavy_new_shares(self, year: int, routes) -> np.ndarray:
        """Carrier shares of new heavy vehicles by group, from the stations' coverage."""
        stations = self.params.stations
        n = self.world.n_municipalities
        existing = np.where(
            np.arange(routes.n_groups) < n,
            stations.existing_coverage_local,
            stations.existing_coverage_corridor,
        )
        carriers = self.params.fleet.heavy.carriers
        shares = np.zeros((routes.n_groups, len(carriers)))
        for station_carrier, fleet_carrier in (
            ("electricity", "electric"),
            ("hydrogen", "hydrogen"),
            ("biogas", "biogas"),
        ):
            covered = coverage(routes, self.stations, station_carrier, existing)
            shares[:, carriers.index(fleet_carrier)] = (
                stations.potential(station_carrier, year) * covered
            )
        alternative = shares.sum(axis=1)
        over = alternative > 1.0
        shares[over] /= alternative[over, None]
        shares[:, carriers.index("diesel")] = 1.0 - shares.sum(axis=1)
        self.new_heavy_shares = shares
        return shares

    def _road_emissions(
        self,
        year: int,
        km: dict[str, np.ndarray],
        heavy_local: np.ndarray,
        heavy_corridor: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Tonnes CO2e by class and municipality."""
        bio = self.params.road.biofuel(year)
        n = self.world.n_municipalities
        result = {}
        for name in ("cars", "vans", "buses"):
            result[name] = km[name] * self.fleets[name].co2e_g_per_km(bio) / 1e6
        heavy_g = self.fleets["heavy"].co2e_g_per_km(bio)
        result["heavy"] = (heavy_local * heavy_g[:n] + heavy_g[n:] @ heavy_corridor) / 1e6
        return result

    def _vehicle_electricity(
        self, km: dict[str, np.ndarray], heavy_local: np.ndarray, heavy_corridor: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Vehicles' grid electricity outside public stations, and the stations' demand.

        Returns MWh by municipality, and what each heavy group buys at public stations
        by carrier (MWh of electricity, kg of hydrogen or biogas).
        """
        stations = self.params.stations
        n = self.world.n_municipalities
        mwh = np.zeros(n)
        for name in ("vans", "buses"):  # charged at the depot, where they drive
            mwh += km[name] * self.fleets[name].electricity_kwh_per_km() / 1000.0
        # Cars charge where their owners live: the region's car charging, by electric car.
        cars = self.fleets["cars"]
        car_mwh = float(km["cars"] @ cars.electricity_kwh_per_km()) / 1000.0
        electric_cars = cars.vehicles[:, cars.carriers.index("electric")]
        if electric_cars.sum() > 0:
            mwh += car_mwh * electric_cars / electric_cars.sum()
        heavy = self.fleets["heavy"]
        shares = heavy.shares()
        carriers = heavy.carriers
        kwh_electric = heavy.vehicle_class.electricity_kwh_per_km[carriers.index("electric")]
        group_km = np.concatenate([heavy_local, heavy_corridor.sum(axis=1)])
        public_share = np.where(
            np.arange(len(group_km)) < n,
            stations.public_energy_share_local,
            stations.public_energy_share_corridor,
        )
        electric_mwh = group_km * shares[:, carriers.index("electric")] * kwh_electric / 1000.0
        depot = electric_mwh * (1.0 - public_share)
        corridor_km = heavy_corridor.sum(axis=1)
        spread = np.divide(
            heavy_corridor,
            corridor_km[:, None],
            out=np.zeros_like(heavy_corridor),
            where=corridor_km[:, None] > 0,
        )
        mwh += depot[:n] + depot[n:] @ spread
        public = {
            "electricity": electric_mwh * public_share,
            "hydrogen": group_km
            * shares[:, carriers.index("hydrogen")]
            * stations.hydrogen_kg_per_km
            * public_share,
            "biogas": group_km
            * shares[:, carriers.index("biogas")]
            * stations.biogas_kg_per_km
            * public_share,
        }
        return mwh, public

    def _start_stations(self, year: int, vehicle_mwh: np.ndarray) -> None:
        """Planned stations whose year has come connect where the headroom allows."""
        grid = self.params.stations.grid
        spare = self.headroom_mw(year) - vehicle_mwh / HOURS_PER_YEAR * grid.charging_peak_factor
        for station in self.stations:
            if station.operating:
                spare[station.municipality] -= station.peak_draw_mw(grid.station_peak_share)
        for station in sorted(self.stations, key=lambda s: (s.start_year, s.unique_id)):
            if station.try_start(year, spare[station.municipality], grid.station_peak_share):
                spare[station.municipality] -= station.peak_draw_mw(grid.station_peak_share)

    def _serve(self, routes, public: dict[str, np.ndarray]) -> None:
        """Operating stations serve the public demand of the routes they are nearest to."""
        served = {
            carrier: station_demand(routes, self.stations, carrier, public[carrier])
            for carrier in STATION_CARRIERS
        }
        load = self.params.stations.max_load_factor
        for i, station in enumerate(self.stations):
            station.serve({carrier: served[carrier][i] for carrier in STATION_CARRIERS}, load)

    def _ledger_rows(
        self,
        year: int,
        road: dict[str, np.ndarray],
        population: np.ndarray,
        jobs: np.ndarray,
    ) -> pd.DataFrame:
        codes = np.asarray(self.codes)
        blocks = [
            {
                "year": np.int32(year),
                "kommunenummer": codes,
                "sector": ROAD_SECTOR,
                "source": ROAD_SOURCES[name],
                "co2e_tonnes": road[name],
                "method": MODEL,
            }
            for name in VEHICLE_CLASSES
        ]
        blocks += self.other.blocks(
            year, self.codes, population, jobs, self.base_population, self.base_jobs
        )
        return frame_from_blocks(blocks, LEDGER_COLUMNS)

    def _track_budgets(
        self, year: int, ledger: pd.DataFrame, total: np.ndarray
    ) -> dict[str, np.ndarray]:
        if year == self.base_year:
            self._create_budgets(ledger)
        reference = total.copy()
        if self.reference is not None:
            given = self.reference.totals_co2e_tonnes.get(year, {})
            reference = np.array([given.get(code, np.nan) for code in self.codes])
        target = np.zeros_like(total)
        for municipality in self.municipalities:
            budget = municipality.climate_budget
            i = municipality.index
            budget.record(year, float(total[i]), float(reference[i]))
            target[i] = budget.target_co2e_tonnes(year)
        return {
            "climate_target_co2e_tonnes": target,
            "climate_reference_co2e_tonnes": reference,
            "climate_gap_co2e_tonnes": total - target,
        }

    def _create_budgets(self, base_ledger: pd.DataFrame) -> None:
        """Give every municipality its target path, anchored on its reference-year level.

        The level is Miljødirektoratet's in Oslo; elsewhere the base-year ledger times
        Oslo's reference-year/base-year ratio of each source. A scenario takes the
        baseline's levels, so that its levers cannot move its own target.
        """
        targets = self.params.ledger.climate_targets
        ratios = ratio_to_reference_year(self.statistics, targets.reference_year, self.base_year)
        factor = [
            ratios.get((sector, source), 1.0)
            for sector, source in zip(base_ledger["sector"], base_ledger["source"], strict=True)
        ]
        estimated = (
            (base_ledger["co2e_tonnes"] * np.asarray(factor))
            .groupby(base_ledger["kommunenummer"])
            .sum()
        )
        oslo_statistic = self.statistics[
            (self.statistics["kommunenummer"] == OSLO)
            & (self.statistics["year"] == targets.reference_year)
        ]["co2e_tonnes"].sum()
        anchors = self.reference.reference_year_co2e_tonnes if self.reference else {}
        for municipality in self.municipalities:
            code = municipality.kommunenummer
            level = float(oslo_statistic) if code == OSLO else float(estimated.get(code, 0.0))
            level = anchors.get(code, level)
            path = targets.path_for(code)
            years, cuts = self.levers.climate_targets.get(code, (path.target_years, path.cut_share))
            municipality.climate_budget = ClimateBudget(
                targets.reference_year, level, tuple(years), tuple(cuts)
            )

    def _record_tables(self, year: int) -> None:
        for station in self.stations:
            self._station_rows.append(
                {
                    "year": year,
                    "station": station.name,
                    "kommunenummer": self.codes[station.municipality],
                    "easting_m": station.easting_m,
                    "northing_m": station.northing_m,
                    "carriers": ";".join(station.carriers),
                    "power_mw": station.power_mw,
                    "start_year": station.start_year,
                    "status": station.status,
                    "connected_year": station.connected_year or 0,
                    "energy_mwh": station.energy_mwh,
                    "hydrogen_kg": station.hydrogen_kg,
                    "biogas_kg": station.biogas_kg,
                    "utilisation": station.utilisation,
                }
            )
        n = self.world.n_municipalities
        group_names = [*self.codes, *(c.name for c in self.params.road.corridors)]
        for name, fleet in self.fleets.items():
            groups = np.asarray(group_names[: len(fleet.vehicles)])
            for k, carrier in enumerate(fleet.carriers):
                self._fleet_rows.append(
                    {
                        "year": np.int32(year),
                        "group": groups,
                        "through_traffic": np.arange(len(groups)) >= n,
                        "vehicle_class": name,
                        "energy_carrier": carrier,
                        "vehicles": fleet.vehicles[:, k],
                        "new_vehicles": fleet.new_vehicles[:, k],
                    }
                )

    # --- tables -------------------------------------------------------------------------

    def ledger_table(self) -> pd.DataFrame:
        """The emissions ledger of every year so far, Miljødirektoratet's names."""
        if not self._ledger:
            return pd.DataFrame({c: [] for c in LEDGER_COLUMNS})
        return pd.concat(self._ledger, ignore_index=True)

    def stations_table(self) -> pd.DataFrame:
        """Every station's state by year."""
        return pd.DataFrame(self._station_rows)

    def fleet_table(self) -> pd.DataFrame:
        """Vehicles by year, group, class and energy carrier."""
        if not self._fleet_rows:
            return pd.DataFrame()
        return frame_from_blocks(self._fleet_rows, FLEET_COLUMNS)

    def climate_budget_table(self) -> pd.DataFrame:
        """Measure, reference and target path and the gap, by municipality and year."""
        rows = []
        for municipality in self.municipalities:
            budget = municipality.climate_budget
            for year, measure, reference in zip(
                budget.years,
                budget.measure_co2e_tonnes,
                budget.reference_co2e_tonnes,
                strict=True,
            ):
                target = budget.target_co2e_tonnes(year)
                rows.append(
                    {
                        "year": year,
                        "kommunenummer": municipality.kommunenummer,
                        "measure_co2e_tonnes": measure,
                        "reference_co2e_tonnes": reference,
                        "target_co2e_tonnes": target,
                        "reference_year_co2e_tonnes": budget.reference_year_co2e_tonnes,
                        "gap_co2e_tonnes": measure - target,
                    }
                )
        return pd.DataFrame(rows)


def hub_km_per_firm(
    firms_jobs: np.ndarray,
    firms_sector: np.ndarray,
    sector_codes: tuple[str, ...],
    heavy_km_per_job_year: np.ndarray,
) -> np.ndarray:
    """Heavy-vehicle km of each firm in the logistics-hub sectors (0 for the others)."""
    hub = np.isin(np.asarray(sector_codes), HUB_SECTORS)
    return np.asarray(firms_jobs, float) * heavy_km_per_job_year[firms_sector] * hub[firms_sector]
