"""RegionModel: the Mesa model of Greater Oslo.

The model owns the world (municipalities and 1 km cells on a Mesa ``OrthogonalMooreGrid``
with property layers), the synthetic population as column tables, the municipality agents
and the yearly sub-models. One ``step()`` is one year; the sub-models run in the order of
the design guide: 1. demography (with couples forming), 2. migration, 4. construction,
5. housing market (with refugee settlement and this year's young adults leaving home),
3. jobs by sector and new establishments (after the year's moves, so jobs follow the labour
supply), 6-7. commuting: workplaces for every employed person and the commute mode choice
(``model.travel``), 10. municipalities renewing their zoning, 8-9. freight, fleets, energy
stations, power and the emissions ledger with the municipalities' climate budgets
(``model.emissions``); then the indicators of the next 1 January are recorded (11), and a
rail project opening that year changes the skims.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import OrthogonalMooreGrid

from agents.municipality import Municipality
from agents.population import MUNICIPAL_RENTER, NO_ROW, REFUGEE
from agents.zoning import Zoning, initial_zoning
from model.bundle import Bundle, load_bundle
from model.construction import (
    Construction,
    ConstructionLevers,
    ConstructionParameters,
    weight_by_municipality,
)
from model.demography import (
    Demography,
    DemographyRates,
    employment_factors,
    income_follows_employment,
)
from model.emissions.parameters import load_emission_parameters
from model.emissions.stations import EnergyLevers
from model.emissions.system import (
    ENERGY_UNITS,
    ClimateReference,
    EnergyAndEmissions,
    hub_km_per_firm,
)
from model.household_formation import HouseholdFormation
from model.housing.indicators import HOUSING_STOCKS, housing_indicators, vacancy_rate
from model.housing.market import (
    HousingMarket,
    access_elasticity,
    accessibility,
    travel_adjusted_access,
)
from model.housing.prices import HousingPriceParameters, base_dwelling_prices
from model.indicators import FLOWS, STOCKS, IndicatorLog, stock_indicators
from model.jobs import JobParameters, jobs_by_sector, relative_trends, sector_targets
from model.jobs import step as grow_jobs
from model.migration import Migration, SettlementPolicy, refugee_employment
from model.mode_choice import TransportLevers
from model.parameters import (
    PARAMETERS_DIR,
    DemographyParameters,
    HousingMarketParameters,
    MigrationParameters,
    SynthesisParameters,
    load_parameters,
    read_csv,
)
from model.region import region_codes
from model.streams import random_stream
from model.synthesis import Population, synthesize
from model.synthesis.firms import load_job_sectors
from model.transport.network import load_rail_projects
from model.travel import Travel
from model.world import World, build_world

OSLO = "0301"
GRID_LAYERS = ("municipality", "population", "households", "dwellings", "jobs")
NO_MUNICIPALITY = -1


class RegionModel(mesa.Model):
    """Households, firms and municipalities of the region, stepped one year at a time."""

    def __init__(
        self,
        seed: int = 1,
        scale: float = 1.0,
        region: str | list[str] = "osloregionen",
        data_dir: str | Path | None = None,
        parameters_dir: str | Path | None = None,
        progress: Callable[[str], None] | None = None,
        settlement: SettlementPolicy | None = None,
        construction_levers: ConstructionLevers | None = None,
        rail_projects: dict[str, int] | None = None,
        transport_levers: TransportLevers | None = None,
        energy_levers: EnergyLevers | None = None,
        climate_reference: ClimateReference | None = None,
        population_growth_factor: float = 1.0,
    ) -> None:
        """Build the base-year world.

        Args:
            seed: the run's seed; every sub-model draws from its own stream spawned from it.
            scale: share of households simulated (1.0 = one row per real household); every
                reported number is in full-population units whatever the scale.
            region: ``"osloregionen"`` (default), ``"all"`` or a list of municipality numbers.
            data_dir: a data bundle folder (default: the shipped base year 2024).
            parameters_dir: folder of the parameter TOML files (default: data/parameters).
            progress: called with a short message as each part of the world is built.
            settlement: refugee numbers and settlement rule (default: ``SettlementPolicy()``).
            construction_levers: densification around stations, multi-core steering, area
                neutrality (default: none).
            rail_projects: rail projects to open, name -> opening year (names from
                ``data/parameters/rail_projects.toml``; default: none).
            transport_levers: road pricing, public transport fare and frequency, remote
                work (default: the values of ``data/parameters/mode_choice.toml``).
            energy_levers: energy stations (a list or a count and siting rule), grid
                headroom, climate targets (default: none beyond ``data/parameters``).
            climate_reference: the baseline run's emissions and target anchors for the
                climate budgets' reference path (default: this run is its own reference,
                as the baseline is).
            population_growth_factor: the region's population growth as a multiple of the
                growth in SSB's main projection (default 1: the projection itself).

        """
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        super().__init__(rng=seed)
        report = progress or (lambda message: None)
        self.seed = seed
        self.scale = scale
        params_folder = Path(parameters_dir) if parameters_dir is not None else PARAMETERS_DIR

        report("reading the data bundle")
        self.bundle: Bundle = load_bundle(data_dir)
        self.year = self.bundle.base_year
        report("building the 1 km grid")
        self.world: World = build_world(self.bundle, region_codes(self.bundle, region))
        self.grid = OrthogonalMooreGrid(
            (self.world.width, self.world.height), torus=False, random=self.random
        )
        for name in GRID_LAYERS:
            dtype = int if name == "municipality" else float
            default = NO_MUNICIPALITY if name == "municipality" else 0.0
            self.grid.create_property_layer(name, default_value=default, dtype=dtype)
        self.layer("municipality")[:] = self.world.to_grid(
            self.world.cell_municipality.astype(int), NO_MUNICIPALITY
        )
        self.municipalities = [
            Municipality(self, i, code, name, county, float(area))
            for i, (code, name, county, area) in enumerate(
                zip(
                    self.world.codes,
                    self.world.names,
                    self.world.counties,
                    self.world.area_km2,
                    strict=True,
                )
            )
        ]
        for municipality in self.municipalities:
            municipality.cells = self.world.cells_of(municipality.index)

        report("synthesizing households, persons, dwellings and firms")
        synthesis_params = load_parameters(SynthesisParameters, params_folder)
        self.population: Population = synthesize(
            self.bundle,
            self.world,
            scale,
            synthesis_params,
            self.stream,
            _establishment_sizes(params_folder),
            job_sectors=load_job_sectors(params_folder),
        )
        rates = DemographyRates.from_bundle(self.bundle)
        demography_params = load_parameters(DemographyParameters, params_folder)
        self.demography = Demography(
            rates,
            demography_params,
            self.stream("demography"),
            employment_factors(
                self.persons, self.households, rates.employment_rates, len(self.municipalities)
            ),
            synthesis_params.income,
        )
        self.household_formation = HouseholdFormation(
            demography_params.household_formation,
            synthesis_params.income,
            self.population.income_level_log_nok,
            self.stream("household_formation"),
            self.world.codes,
        )
        report("pricing dwellings (SSB 06035)")
        self.dwellings.price_nok_per_m2[:] = base_dwelling_prices(
            self.bundle,
            self.world,
            self.dwellings,
            load_parameters(HousingPriceParameters, params_folder),
            synthesis_params.placement,
        )
        self.settlement = settlement or SettlementPolicy()
        migration_params = load_parameters(MigrationParameters, params_folder)
        self.migration = Migration(
            migration_params,
            self.settlement,
            scaled_growth(
                regional_projection(self.bundle, list(self.world.codes)),
                population_growth_factor,
            ),
            self.world.codes,
            self.stream("migration"),
        )
        market_params = load_parameters(HousingMarketParameters, params_folder)
        self.housing_market = HousingMarket(
            market_params,
            migration_params,
            self.settlement,
            self.world,
            accessibility(self.world, market_params, synthesis_params.placement),
            vacancy_rate(self.dwellings, len(self.municipalities)),
            self.stream("housing_market"),
        )
        self.refugee_stream = self.stream("refugee_employment")
        report("building travel-time skims and the commuting model")
        catalogue = load_rail_projects(params_folder)
        unknown = sorted(set(rail_projects or {}) - set(catalogue))
        if unknown:
            raise ValueError(
                f"rail project '{unknown[0]}' is unknown; allowed: {', '.join(sorted(catalogue))}"
            )
        self.travel = Travel(
            self.world,
            self.bundle,
            params_folder,
            {name: (catalogue[name], int(year)) for name, year in (rail_projects or {}).items()},
            transport_levers or TransportLevers(),
            self.stream("commuting"),
        )
        self.travel.refresh(self.year, self.cell_counts)
        self._set_up_travel_access()
        self.job_sectors = load_job_sectors(params_folder)
        self.job_params = load_parameters(JobParameters, params_folder)
        self.establishment_sizes = _establishment_sizes(params_folder)
        self.jobs_stream = self.stream("jobs")
        self.jobs_per_employed = self.firms.jobs.sum() / self._employed_residents()
        construction_params = load_parameters(ConstructionParameters, params_folder)
        self.construction_levers = construction_levers or ConstructionLevers()
        self.zoning: Zoning = initial_zoning(
            self.world,
            self.population.expected_dwellings_per_cell,
            construction_params.zoning,
            self.construction_levers,
            built_up=self.cell_counts()["dwellings"] > 0,
        )
        self.construction = Construction(
            construction_params,
            self.construction_levers,
            self.stream("construction"),
            self.population.expected_dwellings_per_cell,
        )
        self._dwelling_row_weight = weight_by_municipality(self.dwellings, len(self.municipalities))
        self.zoning_renewal_share = construction_params.zoning.renewal_share_per_year
        self._projection_by_municipality = municipal_projection(self.bundle, list(self.world.codes))
        report("placing energy stations, fleets and the emissions ledger")
        self.emissions = self._build_emissions(
            params_folder, energy_levers or EnergyLevers(), transport_levers, climate_reference
        )
        self.indicators = IndicatorLog(self.world.codes)
        self._previous_population: np.ndarray | None = None
        self._record_stocks()

    @property
    def persons(self):  # noqa: D102 - shorthand for the population's tables
        return self.population.persons

    @property
    def households(self):  # noqa: D102
        return self.population.households

    @property
    def dwellings(self):  # noqa: D102
        return self.population.dwellings

    @property
    def firms(self):  # noqa: D102
        return self.population.firms

    def stream(self, name: str) -> np.random.Generator:
        """The random stream of sub-model ``name`` for this run's seed."""
        return random_stream(self.seed, name)

    def layer(self, name: str) -> np.ndarray:
        """The ndarray of property layer ``name``, indexed ``[x, y]``.

        The one place that knows how Mesa exposes layer data (``grid.<name>.data`` in 3.5,
        ``grid.property_layers[name]`` in 4.0).
        """
        return getattr(self.grid, name).data

    def step(self) -> None:
        """Simulate one year: the sub-models in order, then the next 1 January's stocks."""
        persons, households, dwellings = self.persons, self.households, self.dwellings
        vacancy_ratio = self._vacancy_ratio()  # on 1 January, before the year's flows
        flows = self.demography.step(persons, households, dwellings)
        couples = self.household_formation.form_couples(persons, households, dwellings)
        arrivals, migration = self.migration.step(self.year, persons, households, dwellings)
        built = self.construction.step(
            self.year,
            self.world,
            dwellings,
            self.zoning,
            dwellings.price_nok_per_m2,
            self._dwelling_row_weight,
        )
        leavers = self.household_formation.leave_home(
            persons,
            households,
            self.demography.income_index,
            vacancy_ratio,
        )
        market = self.housing_market.step(
            self.year, persons, households, dwellings, arrivals, leavers
        )
        self._update_refugee_employment()
        jobs = self._grow_jobs()
        commuting, commuting_region = self.travel.step(
            self.year, persons, households, dwellings, self.firms
        )
        energy, energy_region = self.emissions.step(
            self.year,
            self.travel.car_vehicle_km_by_pair,
            self.firms.municipality.astype(np.int64),
            self.firms.cell,
            self.firms.jobs,
            self.firms.sector.astype(np.int64),
            self._municipal_figure("population"),
            self._municipal_figure("jobs"),
        )
        rezoned = np.array(
            [
                municipality.renew_zoning(self.zoning, self.zoning_renewal_share)
                for municipality in self.municipalities
            ]
        )
        self.indicators.add(
            self.year,
            {
                "births": flows.births,
                "deaths": flows.deaths,
                "households_dissolved": flows.households_dissolved,
                "households_formed": market.households_formed,
                "leavers_without_dwelling": market.leavers_without_dwelling,
                "couples_formed": couples,
                "out_migrants": migration.out_migrants,
                "out_migrant_households": migration.out_households,
                "in_migrants": market.in_migrants,
                "in_migrant_households": market.in_migrant_households,
                "moved_in": market.moved_in,
                "moved_out": market.moved_out,
                "households_moved": market.movers,
                "refugee_households_settled": market.refugee_households_settled,
                "refugees_settled": market.refugees_settled,
                "price_change": market.price_change,
                "dwellings_built": built.dwellings_built,
                "cells_newly_built_up": built.cells_newly_built_up,
                "dwellings_rezoned": rezoned,
                **jobs,
                **commuting,
            },
            FLOWS,
            region={"price_change": market.region_price_change, **commuting_region},
        )
        self.indicators.add(self.year, energy, ENERGY_UNITS, region=energy_region)
        self.indicators.add_region(
            self.year,
            {
                "in_migrants_planned": migration.in_migrants_planned,
                "in_migrants_without_dwelling": market.in_migrants_without_dwelling,
            },
            FLOWS,
        )
        self.year += 1
        if self.travel.refresh(self.year, self.cell_counts):  # a rail project opens on 1 January
            self._update_travel_access()
        self._record_stocks()

    def _set_up_travel_access(self) -> None:
        """Remember the base year's accessibility, for when the rail network changes.

        Where households choose to live depends on the housing market's accessibility of a
        cell (distance to Oslo S and stations). When rail projects open, that accessibility
        moves with the cell's job accessibility with the projects over without them (jobs of
        the base year within reach by the commuting model's generalised time), by the
        elasticity the base year's own geography shows between the two
        (``access_elasticity``).
        """
        counts = self.cell_counts()
        self._jobs_base_per_cell = counts["jobs"]
        self._housing_access_base = self.housing_market.access.copy()
        self.housing_access_elasticity = access_elasticity(
            self._housing_access_base,
            self.travel.job_access_per_cell(self._jobs_base_per_cell),
            counts["population"],
        )

    def _update_travel_access(self) -> None:
        """Move the housing market's accessibility with what the open projects change."""
        self.housing_market.access = travel_adjusted_access(
            self._housing_access_base,
            self.travel.job_access_ratio_per_cell(self._jobs_base_per_cell),
            self.housing_access_elasticity,
        )

    def _vacancy_ratio(self) -> np.ndarray:
        """Each municipality's vacancy over its base-year vacancy (1 where that was 0)."""
        base = self.housing_market.base_vacancy
        now = vacancy_rate(self.dwellings, len(self.municipalities))
        return np.divide(now, base, out=np.ones_like(base), where=base > 0)

    def _municipal_figure(self, name: str) -> np.ndarray:
        """A stock of 1 January this year per municipality (population, jobs, ...)."""
        return np.array([m.figures.get(name, 0.0) for m in self.municipalities])

    def _build_emissions(
        self,
        params_folder: Path,
        levers: EnergyLevers,
        transport_levers: TransportLevers | None,
        climate_reference: ClimateReference | None,
    ) -> EnergyAndEmissions:
        """Fleets, corridors, energy stations and the ledger of the base year."""
        params = load_emission_parameters(params_folder, self.job_sectors.codes)
        firms = self.firms
        stocks = stock_indicators(
            self.persons, self.households, self.dwellings, firms, len(self.municipalities)
        )
        return EnergyAndEmissions(
            self,
            self.world,
            self.bundle,
            self.municipalities,
            params,
            levers,
            firms.cell,
            hub_km_per_firm(
                firms.jobs, firms.sector, self.job_sectors.codes, params.heavy_km_per_job_year
            ),
            stocks["population"],
            stocks["jobs"],
            (transport_levers or TransportLevers()).pt_frequency_factor,
            climate_reference,
        )

    def emissions_table(self) -> pd.DataFrame:
        """The emissions ledger by year, municipality, sector and source."""
        return self.emissions.ledger_table()

    def commuting_table(self) -> pd.DataFrame:
        """Commuters by home and work municipality and year (long form, with main modes)."""
        return self.travel.od_table()

    def _employed_residents(self) -> float:
        """Employed residents of the region, full-population units."""
        persons, households = self.persons, self.households
        return float(households.weight[persons.household[persons.employed]].sum())

    def _grow_jobs(self) -> dict[str, np.ndarray]:
        """Step 3: jobs follow the labour supply, split by sector trends, located by firms.

        The region's jobs keep the base year's ratio to employed residents; each sector's
        share moves with its national trend (``model.jobs``); new establishments choose cells
        by labour accessibility and agglomeration among settled cells.
        """
        target = int(round(self.jobs_per_employed * self._employed_residents()))
        sectors = len(self.job_sectors.codes)
        targets = sector_targets(
            jobs_by_sector(self.firms, sectors),
            target,
            relative_trends(self.job_sectors, self.job_params),
        )
        counts = self.cell_counts()
        flows = grow_jobs(
            self.firms,
            targets,
            self.travel.labour_access_per_cell(counts["population"]),
            self.zoning.built_up | (counts["jobs"] > 0),
            self.world,
            self.establishment_sizes,
            self.jobs_stream,
            self.job_params,
        )
        return {
            "jobs_created": flows.jobs_created.astype(float),
            "jobs_lost": flows.jobs_lost.astype(float),
            "firms_opened": flows.firms_opened.astype(float),
            "firms_closed": flows.firms_closed.astype(float),
        }

    def _update_refugee_employment(self) -> None:
        """Refugees' employment follows the ramp by years since arrival, their incomes with it."""
        persons, households = self.persons, self.households
        refugee = households.origin[persons.household] == REFUGEE
        years = self.year - households.arrival_year[persons.household[refugee]]
        was_employed = persons.employed.copy()
        persons.employed[refugee] = refugee_employment(
            persons.age_years[refugee],
            persons.sex[refugee],
            years,
            self.migration.params,
            self.refugee_stream,
        )
        income_follows_employment(
            persons, households, was_employed, self.demography.income.log_income_per_employed
        )

    def indicator_table(self) -> pd.DataFrame:
        """All indicators recorded so far, in long form."""
        return self.indicators.frame()

    def cell_counts(self) -> dict[str, np.ndarray]:
        """Population, households, dwellings and jobs per land cell (full-population units)."""
        n_cells = self.world.n_cells
        households, dwellings = self.households, self.dwellings
        household_cell = dwellings.cell[households.dwelling]
        person_household = self.persons.household
        return {
            "population": np.bincount(
                household_cell[person_household], households.weight[person_household], n_cells
            ),
            "households": np.bincount(household_cell, households.weight, n_cells),
            "dwellings": np.bincount(dwellings.cell, dwellings.weight, n_cells),
            "jobs": np.bincount(self.firms.cell, self.firms.jobs, n_cells).astype(float),
        }

    def _record_stocks(self) -> None:
        stocks = stock_indicators(
            self.persons, self.households, self.dwellings, self.firms, len(self.municipalities)
        )
        self.indicators.add(self.year, stocks, STOCKS)
        housing, housing_region = housing_indicators(
            self.persons,
            self.households,
            self.dwellings,
            self.world.cell_municipality,
            len(self.municipalities),
        )
        self.indicators.add(self.year, housing, HOUSING_STOCKS, housing_region)
        if self.year in self._projection_by_municipality:
            self.indicators.add(
                self.year,
                {"population_projected_ssb": self._projection_by_municipality[self.year]},
                {"population_projected_ssb": "persons"},
            )
        self._record_growth_outside_oslo(stocks["population"])
        for municipality in self.municipalities:
            municipality.record({name: float(v[municipality.index]) for name, v in stocks.items()})
        for name, per_cell in self.cell_counts().items():
            self.layer(name)[:] = self.world.to_grid(per_cell, 0.0)

    def _record_growth_outside_oslo(self, population: np.ndarray) -> None:
        """Share of the region's population growth last year that fell outside Oslo."""
        previous, self._previous_population = self._previous_population, population
        if previous is None or OSLO not in self.world.codes:
            return
        growth = population - previous
        total = float(growth.sum())
        oslo = float(growth[self.world.codes.index(OSLO)])
        share = (total - oslo) / total if total != 0 else float("nan")
        self.indicators.add_region(self.year - 1, {"growth_outside_oslo_share": share}, FLOWS)

    def check_invariants(self) -> None:
        """Raise AssertionError if anybody is lost, duplicated or homeless.

        Every person is in one existing household; every household has at least one member
        and exactly one dwelling, which it alone occupies, in its own municipality; exactly
        the municipal renters live in municipal dwellings.
        """
        persons, households, dwellings = self.persons, self.households, self.dwellings
        n = len(households)
        assert persons.household.min(initial=0) >= 0 and persons.household.max(initial=-1) < n
        assert np.all(np.bincount(persons.household, minlength=n) > 0), "empty household"
        assert np.all(households.dwelling != NO_ROW), "household without a dwelling"
        assert len(np.unique(households.dwelling)) == n, "two households in one dwelling"
        assert np.array_equal(dwellings.household[households.dwelling], np.arange(n))
        assert np.count_nonzero(dwellings.household != NO_ROW) == n
        assert np.array_equal(
            dwellings.municipality[households.dwelling], households.municipality
        ), "household in a dwelling of another municipality"
        assert np.array_equal(
            self.world.cell_municipality[dwellings.cell], dwellings.municipality
        ), "dwelling in a cell of another municipality"
        assert np.array_equal(
            dwellings.municipal_rental[households.dwelling],
            households.tenure == MUNICIPAL_RENTER,
        ), "municipal renters and municipal dwellings disagree"


def scaled_growth(projection: dict[int, float], growth_factor: float) -> dict[int, float]:
    """The projection with its growth from the first year multiplied by ``growth_factor``.

    1 keeps SSB's main projection, 0 holds the population at the base year, 1.5 grows it
    one and a half times as much (the growth lever of the Foresight narratives).
    """
    if not growth_factor >= 0:
        raise ValueError(f"population_growth_factor is {growth_factor}; allowed: >= 0")
    base = projection[min(projection)]
    return {year: base + growth_factor * (value - base) for year, value in projection.items()}


def regional_projection(bundle: Bundle, codes: list[str]) -> dict[int, float]:
    """SSB's main projection summed over the region, by year (1 January)."""
    projection = bundle["population_projection.csv"]
    projection = projection[projection["kommunenummer"].isin(codes)]
    totals = projection.groupby("year")["population_projected_mmmm"].sum()
    return {int(year): float(total) for year, total in totals.items()}


def municipal_projection(bundle: Bundle, codes: list[str]) -> dict[int, np.ndarray]:
    """SSB's main projection per municipality and year: a comparison line for the output.

    Only the regional sum steers migration (``regional_projection``); these values are
    written beside the simulated population and never enter a choice.
    """
    projection = bundle["population_projection.csv"]
    projection = projection[projection["kommunenummer"].isin(codes)]
    table = projection.pivot(
        index="year", columns="kommunenummer", values="population_projected_mmmm"
    ).reindex(columns=codes)
    return {int(year): row.to_numpy(float) for year, row in table.iterrows()}


def _establishment_sizes(folder: Path) -> pd.DataFrame:
    path = folder / "establishment_size_classes.csv"
    return read_csv(path, ("employees_min", "employees_max", "share_of_establishments"))
