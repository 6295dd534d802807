"""The yearly commuting step: skims of the open network, workplaces, modes and their traffic.

Each year (``Travel.step``):

1. the doubly-constrained gravity model (``model.commuting``) distributes the employed
   residents who work inside the region over the jobs of the region, by municipality;
2. every employed person gets a workplace (``model.workplaces``): an establishment, and so
   a cell and a zone;
3. the mode choice (``model.mode_choice``) gives each worker's probabilities of car, public
   transport (rail or local), bike and walk on the zone pair, and the expected commute trips,
   person-km and car vehicle-km are summed by home municipality;
4. the commuters by home and work municipality, with their expected main mode, are kept for
   ``od_commuting.parquet``, and their car vehicle-km by municipality pair for the road
   emissions (``car_vehicle_km_by_pair``).

The skims are rebuilt when a rail project opens (``refresh``), weighted by where people live
then. The zero-growth indicator (nullvekstmålet of the urban growth agreements) compares
each year's car vehicle-km of commuting with the run's first year under the default levers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from agents.population import NO_ROW, Dwellings, Firms, Households, Persons
from model.bundle import Bundle
from model.commuting import (
    CommutingInputs,
    CommutingParameters,
    gravity,
    inputs_from,
    inside_shares,
    municipality_cost,
)
from model.mode_choice import (
    MODES,
    CommuteSkims,
    ModeChoiceParameters,
    TransportLevers,
    commute_indicators,
    commute_trips_per_worker,
    expected_probabilities,
    no_car_share_by_municipality,
    systematic_utility,
    worker_skims,
)
from model.parameters import load_parameters
from model.transport.network import RailNetwork, RailProject, build_rail_network, with_projects
from model.transport.skims import Skims, TransportParameters, build_skims
from model.workplaces import assign_workplaces
from model.world import World

OD_COLUMNS = ("year", "home_kommunenummer", "work_kommunenummer", "persons")
OD_MODE_COLUMNS = ("car", "pt", "rail", "bike", "walk")


def with_pt_frequency(
    params: TransportParameters, network: RailNetwork, factor: float
) -> tuple[TransportParameters, RailNetwork]:
    """Parameters and rail network with public transport ``factor`` times as frequent.

    Local and feeder waits are divided by ``factor``, train departures multiplied by it.
    """
    if factor == 1.0:
        return params, network
    local = replace(
        params.local_transit, wait_min=tuple(w / factor for w in params.local_transit.wait_min)
    )
    access = replace(params.access, feeder_wait_min=params.access.feeder_wait_min / factor)
    departures = network.station_departures_24h * factor
    return (
        replace(params, local_transit=local, access=access),
        replace(network, station_departures_24h=departures),
    )


@dataclass(frozen=True)
class Commuters:
    """Workers with a workplace in the region: municipalities, weights, mode-choice inputs."""

    home: np.ndarray  # home municipality index
    work: np.ndarray  # work municipality index
    weight: np.ndarray  # persons each row stands for
    utility: np.ndarray  # workers x MODES, without the mode constants
    rail_share: np.ndarray  # rail share of public transport trips
    skims: CommuteSkims


class Travel:
    """Skims, workplaces and mode choice of the region's commuters (see the module doc)."""

    def __init__(
        self,
        world: World,
        bundle: Bundle,
        params_folder: Path,
        rail_projects: dict[str, tuple[RailProject, int]],
        levers: TransportLevers,
        rng: np.random.Generator,
    ) -> None:
        """Read the parameters; the skims are built by the first ``refresh``."""
        self.world, self.bundle, self.levers, self.rng = world, bundle, levers, rng
        self.rail_projects = rail_projects
        params = load_parameters(TransportParameters, params_folder)
        network = build_rail_network(bundle, params.rail)
        self.transport_params, self.base_rail_network = with_pt_frequency(
            params, network, levers.pt_frequency_factor
        )
        self.commuting_params = load_parameters(CommutingParameters, params_folder)
        self.mode_params = load_parameters(ModeChoiceParameters, params_folder)
        self.no_car_share = no_car_share_by_municipality(self.mode_params, world.codes)
        self.resident_inside_share, self.job_inside_share = inside_shares(bundle, list(world.codes))
        self._open: list[str] | None = None
        self._od: list[pd.DataFrame] = []
        self._base_vehicle_km: np.ndarray | None = None

    def open_projects(self, year: int) -> list[str]:
        """Names of the rail projects open in ``year``."""
        return sorted(name for name, (_, opening) in self.rail_projects.items() if opening <= year)

    def refresh(self, year: int, cell_counts: Callable[[], dict[str, np.ndarray]]) -> bool:
        """Rebuild the skims if the open rail projects differ from the current skims'.

        ``cell_counts`` gives the population and jobs per cell that weight the zones; it is
        called only when the skims are rebuilt. Returns whether they were.
        """
        open_now = self.open_projects(year)
        if open_now == self._open:
            return False
        counts = cell_counts()
        population_per_cell, jobs_per_cell = counts["population"], counts["jobs"]
        network = with_projects(
            self.base_rail_network, [self.rail_projects[name][0] for name in open_now]
        )
        self.skims, self.inputs, self.zone_deterrence = self._commuting_costs(
            network, population_per_cell, jobs_per_cell
        )
        self.commuting_cost_min = municipality_cost(self.inputs, self.commuting_params)
        # The same zones and weights on the network without projects: the yardstick of what
        # the open projects change (see ``job_access_ratio_per_cell``).
        self.no_project_deterrence = self.zone_deterrence
        if open_now:
            self.no_project_deterrence = self._commuting_costs(
                self.base_rail_network, population_per_cell, jobs_per_cell
            )[2]
        zones = self.skims.zones
        centre = self.world.codes.index(self.mode_params.toll_ring_centre_municipality)
        self._inside_toll_ring = (
            np.hypot(
                zones.easting_m - self.world.centre_easting_m[centre],
                zones.northing_m - self.world.centre_northing_m[centre],
            )
            / 1000.0
            <= self.mode_params.toll_ring_radius_km
        )
        self._open = open_now
        return True

    def _commuting_costs(
        self, network, population_per_cell: np.ndarray, jobs_per_cell: np.ndarray
    ) -> tuple[Skims, CommutingInputs, np.ndarray]:
        """Skims, commuting inputs and the zone deterrence ``exp(-beta c)`` on ``network``."""
        skims = build_skims(
            self.world, self.bundle, self.transport_params, population_per_cell, network
        )
        inputs = inputs_from(
            self.world, skims, population_per_cell, jobs_per_cell, self.commuting_params
        )
        deterrence = np.exp(
            -self.commuting_params.beta_per_min * inputs.zone_cost_min.astype(float)
        )
        return skims, inputs, deterrence

    def labour_access_per_cell(self, population_per_cell: np.ndarray) -> np.ndarray:
        """Residents reachable from each land cell, weighted by ``exp(-beta c)``.

        ``c`` is the zone generalised time of the commuting model; the result is > 0
        wherever a zone is reachable.
        """
        zones = self.skims.zones
        residents = np.bincount(zones.cell_zone, population_per_cell, zones.n_zones)
        return (residents @ self.zone_deterrence)[zones.cell_zone]

    def job_access_per_cell(self, jobs_per_cell: np.ndarray) -> np.ndarray:
        """Jobs reachable from each land cell (as a home), weighted by ``exp(-beta c)``.

        The mirror of ``labour_access_per_cell``: ``c`` is the zone generalised time of the
        commuting model from the cell's zone to each work zone.
        """
        zones = self.skims.zones
        jobs = np.bincount(zones.cell_zone, jobs_per_cell, zones.n_zones)
        return (self.zone_deterrence @ jobs)[zones.cell_zone]

    def job_access_ratio_per_cell(self, jobs_per_cell: np.ndarray) -> np.ndarray:
        """Each cell's job accessibility with the open projects over that without them.

        Both on the same zones and weights, so the ratio is the projects' effect alone: 1
        where they change no time, above 1 where they bring jobs closer.
        """
        zones = self.skims.zones
        jobs = np.bincount(zones.cell_zone, jobs_per_cell, zones.n_zones)
        with_projects = self.zone_deterrence @ jobs
        without = self.no_project_deterrence @ jobs
        ratio = np.divide(with_projects, without, out=np.ones_like(without), where=without > 0)
        return ratio[zones.cell_zone]

    def step(
        self,
        year: int,
        persons: Persons,
        households: Households,
        dwellings: Dwellings,
        firms: Firms,
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Commute this year; indicators by home municipality and region overrides."""
        employed = np.flatnonzero(persons.employed)
        household = persons.household[employed]
        home = households.municipality[household].astype(np.int64)
        zones = self.skims.zones
        persons.work_firm[:] = NO_ROW
        persons.work_firm[employed] = assign_workplaces(
            home,
            zones.cell_zone[dwellings.cell[households.dwelling[household]]],
            self.municipality_flows(home, households.weight[household], firms),
            self.resident_inside_share,
            firms.municipality.astype(np.int64),
            zones.cell_zone[firms.cell],
            firms.jobs,
            self.zone_deterrence,
            self.rng,
        )
        commuters = self.commuters(persons, households, dwellings, firms)
        probability, indicators = self._mode_indicators(
            commuters, commuters.utility, commuters.rail_share, self.levers
        )
        indicators.update(
            self._record_od(
                year,
                commuters.home,
                commuters.work,
                commuters.weight,
                probability,
                commuters.rail_share,
            )
        )
        self.car_vehicle_km_by_pair = self._car_vehicle_km_by_pair(commuters, probability)
        if self._base_vehicle_km is None:
            self._base_vehicle_km = self._vehicle_km_without_levers(commuters)
        region = self._zero_growth(indicators)
        return indicators, region

    def _car_vehicle_km_by_pair(self, commuters: Commuters, probability: np.ndarray) -> np.ndarray:
        """Yearly car vehicle-km of commuting by home (rows) and work municipality."""
        n = len(self.world.codes)
        vehicle_km = (
            commuters.weight
            * commute_trips_per_worker(self.mode_params, self.levers)
            * probability[:, MODES.index("car")]
            * commuters.skims.km["car"]
            / self.mode_params.car_occupancy_persons
        )
        pair = commuters.home * n + commuters.work
        return np.bincount(pair, vehicle_km, n * n).reshape(n, n)

    def municipality_flows(self, home: np.ndarray, weight: np.ndarray, firms: Firms) -> np.ndarray:
        """Gravity flows of the employed who work in the region, over the region's jobs.

        ``home`` (municipality index) and ``weight`` are given per employed person.
        """
        n = len(self.world.codes)
        origins = np.bincount(home, weight, n) * self.resident_inside_share
        jobs = np.bincount(firms.municipality, firms.jobs, n).astype(float)
        destinations = jobs * self.job_inside_share
        destinations *= origins.sum() / destinations.sum()
        return gravity(
            origins, destinations, self.commuting_cost_min, self.commuting_params, self.world.codes
        )

    def _mode_indicators(
        self,
        commuters: Commuters,
        utility: np.ndarray,
        rail_share: np.ndarray,
        levers: TransportLevers,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Expected mode probabilities of the commuters and their yearly traffic indicators."""
        probability = expected_probabilities(
            utility, self.mode_params.constant, self.no_car_share[commuters.home]
        )
        indicators = commute_indicators(
            commuters.home,
            commuters.weight,
            probability,
            rail_share,
            commuters.skims,
            self.mode_params,
            levers,
            len(self.world.codes),
        )
        return probability, indicators

    def _vehicle_km_without_levers(self, commuters: Commuters) -> np.ndarray:
        """Car vehicle-km of these commuters under the default levers (the index's base)."""
        defaults = TransportLevers()
        utility, rail_share = systematic_utility(commuters.skims, self.mode_params, defaults)
        _, indicators = self._mode_indicators(commuters, utility, rail_share, defaults)
        return indicators["commute_car_vehicle_km"]

    def commuters(
        self, persons: Persons, households: Households, dwellings: Dwellings, firms: Firms
    ) -> Commuters:
        """Persons with a workplace in the region and their mode-choice inputs."""
        worker = np.flatnonzero(persons.work_firm != NO_ROW)
        household = persons.household[worker]
        firm = persons.work_firm[worker]
        skims = self._worker_skims(dwellings.cell[households.dwelling[household]], firms.cell[firm])
        utility, rail_share = systematic_utility(skims, self.mode_params, self.levers)
        return Commuters(
            home=households.municipality[household].astype(np.int64),
            work=firms.municipality[firm].astype(np.int64),
            weight=households.weight[household],
            utility=utility,
            rail_share=rail_share,
            skims=skims,
        )

    def _worker_skims(self, home_cell: np.ndarray, work_cell: np.ndarray) -> CommuteSkims:
        """Per-worker skims, km by each mode's detour factor."""
        p = self.transport_params
        easting, northing = self.world.cell_centre_m()
        return worker_skims(
            home_cell,
            work_cell,
            self.skims.zones.cell_zone,
            easting,
            northing,
            self.skims.matrices,
            {
                "car": p.car.detour_factor,
                "pt": p.local_transit.detour_factor,
                "bike": p.active.detour_factor,
                "walk": p.active.detour_factor,
            },
            p.active,
            self._inside_toll_ring,
        )

    def _record_od(
        self,
        year: int,
        home: np.ndarray,
        work: np.ndarray,
        weight: np.ndarray,
        probability: np.ndarray,
        rail_share: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Keep this year's commuters by municipality pair; in- and out-commuters."""
        n = len(self.world.codes)
        pair = home * n + work
        persons = np.bincount(pair, weight, n * n)
        by_mode = {
            mode: np.bincount(pair, weight * probability[:, k], n * n)
            for k, mode in enumerate(MODES)
        }
        by_mode["rail"] = np.bincount(
            pair, weight * probability[:, MODES.index("pt")] * rail_share, n * n
        )
        kept = np.flatnonzero(persons > 0)
        codes = np.asarray(self.world.codes)
        frame = {
            "year": np.int32(year),
            "home_kommunenummer": codes[kept // n],
            "work_kommunenummer": codes[kept % n],
            "persons": np.round(persons[kept], 3),
        }
        frame.update({mode: np.round(by_mode[mode][kept], 3) for mode in OD_MODE_COLUMNS})
        self._od.append(pd.DataFrame(frame))
        matrix = persons.reshape(n, n)
        return {
            "out_commuters": matrix.sum(axis=1) - np.diag(matrix),
            "in_commuters": matrix.sum(axis=0) - np.diag(matrix),
        }

    def _zero_growth(self, indicators: dict[str, np.ndarray]) -> dict[str, float]:
        """Car vehicle-km of commuting relative to the first year without levers.

        The base is the run's first year with the default transport levers (no road price,
        today's fares and remote work), so a lever acting from the first year shows in the
        index; skims changes of that year (frequency, a project opening then) are in both.
        """
        vehicle_km = indicators["commute_car_vehicle_km"]
        base = self._base_vehicle_km
        indicators["car_vehicle_km_index"] = np.divide(
            vehicle_km, base, out=np.full_like(vehicle_km, np.nan), where=base > 0
        )
        return {"car_vehicle_km_index": float(vehicle_km.sum() / base.sum())}

    def od_table(self) -> pd.DataFrame:
        """Commuters by home and work municipality and year, with expected main modes."""
        if not self._od:
            return pd.DataFrame(columns=[*OD_COLUMNS, *OD_MODE_COLUMNS])
        return pd.concat(self._od, ignore_index=True)
