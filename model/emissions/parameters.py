"""Parameters of fleets, road traffic, energy stations and the emissions ledger.

Read from ``fleet.toml``, ``road_traffic.toml``, ``freight_by_sector.csv``,
``energy_stations.toml``, ``emissions.toml`` and ``emissions_calibration.toml`` in
``data/parameters/``; every problem names the file and the field. Each TOML file's dataclass
declares its ranges and checks (``model.parameters.parameter_file``) and is read by
``model.parameters.load_parameters``; :func:`load_emission_parameters` bundles them with the
freight intensities of the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.parameters import (
    PARAMETERS_DIR,
    ParameterError,
    load_parameters,
    parameter_file,
    read_csv,
)

VEHICLE_CLASSES = ("cars", "vans", "heavy", "buses")
# Miljødirektoratet's sector and source names of road traffic, by vehicle class.
ROAD_SECTOR = "Veitrafikk"
ROAD_SOURCES = {
    "cars": "Personbiler",
    "vans": "Varebiler",
    "heavy": "Tunge kjøretøy",
    "buses": "Busser",
}
STATION_CARRIERS = ("electricity", "hydrogen", "biogas")
SITING_RULES = ("corridors", "logistics_hubs", "grid_capacity")
SECTOR_DRIVERS = ("population", "jobs", "site")


@dataclass(frozen=True)
class VehicleClass:
    """One vehicle class: its energy carriers, emission and electricity per km, turnover."""

    carriers: tuple[str, ...]
    zero_emission: tuple[str, ...]
    fossil_liquid: tuple[str, ...]
    co2e_g_per_km: tuple[float, ...]
    electricity_kwh_per_km: tuple[float, ...]
    attrition_per_year: tuple[float, ...]
    km_per_vehicle_year: float


@dataclass(frozen=True)
class SharePath:
    """Carrier shares of new vehicles at listed years (linear between, flat outside)."""

    years: tuple[int, ...]
    shares: tuple[tuple[float, ...], ...]

    def at(self, year: int) -> np.ndarray:
        """The shares in ``year``."""
        table = np.asarray(self.shares, dtype=float)
        return np.array([np.interp(year, self.years, table[:, k]) for k in range(table.shape[1])])


@dataclass(frozen=True)
class CarOwnership:
    """Registered cars per resident where the bundle has no count."""

    cars_per_resident_outside_oslo: float


def _check_fleet(fleet: FleetParameters, path: Path) -> None:
    """Per vehicle class: one value per carrier, known carriers, shares that sum to 1."""
    for name in VEHICLE_CLASSES:
        vehicle = fleet.vehicle_class(name)
        n = len(vehicle.carriers)
        for field in ("co2e_g_per_km", "electricity_kwh_per_km", "attrition_per_year"):
            if len(getattr(vehicle, field)) != n:
                raise ParameterError(
                    f"{path}: field '{name}.{field}' needs one value per carrier ({n})"
                )
        for field in ("zero_emission", "fossil_liquid"):
            unknown = sorted(set(getattr(vehicle, field)) - set(vehicle.carriers))
            if unknown:
                raise ParameterError(
                    f"{path}: field '{name}.{field}' names '{unknown[0]}'; "
                    f"allowed: {', '.join(vehicle.carriers)}"
                )
        if name != "cars":
            _check_shares(fleet.initial_share.get(name), n, path, f"initial_share.{name}")
        if name != "heavy":
            share_path = fleet.new_vehicles.get(name)
            if share_path is None:
                raise ParameterError(f"{path}: field 'new_vehicles.{name}' missing")
            for i, row in enumerate(share_path.shares):
                _check_shares(row, n, path, f"new_vehicles.{name}.shares[{i}]")


def _check_shares(shares: tuple[float, ...] | None, n: int, path: Path, where: str) -> None:
    if shares is None:
        raise ParameterError(f"{path}: field '{where}' missing")
    values = np.asarray(shares, dtype=float)
    if len(values) != n or np.any(values < 0) or abs(values.sum() - 1.0) > 1e-6:
        raise ParameterError(
            f"{path}: field '{where}' is {list(shares)}; allowed: {n} shares >= 0 summing to 1"
        )


@parameter_file("fleet.toml", check=_check_fleet)
@dataclass(frozen=True)
class FleetParameters:
    """fleet.toml."""

    zero_emission_share_by_centrality: tuple[float, ...]
    cars: VehicleClass
    vans: VehicleClass
    heavy: VehicleClass
    buses: VehicleClass
    car_ownership: CarOwnership
    initial_share: dict[str, tuple[float, ...]]
    new_vehicles: dict[str, SharePath]

    def vehicle_class(self, name: str) -> VehicleClass:
        """The class called ``name`` (one of ``VEHICLE_CLASSES``)."""
        return getattr(self, name)


@dataclass(frozen=True)
class Corridor:
    """A main road through the region and its through traffic."""

    name: str
    waypoints_lat: tuple[float, ...]
    waypoints_lon: tuple[float, ...]
    cars_per_day: float
    vans_per_day: float
    heavy_per_day: float


def _check_corridors(road: RoadTrafficParameters, path: Path) -> None:
    """Every corridor has as many latitudes as longitudes, at least two."""
    for i, corridor in enumerate(road.corridors):
        if (
            len(corridor.waypoints_lat) != len(corridor.waypoints_lon)
            or len(corridor.waypoints_lat) < 2
        ):
            raise ParameterError(
                f"{path}: field 'corridors[{i}].waypoints_lat' must have as many points "
                "as 'waypoints_lon', at least 2"
            )


@parameter_file(
    "road_traffic.toml",
    ranges={"commute_share_of_car_km": (0.0, 1.0, False), "line_samples": (2, 1000, True)},
    check=_check_corridors,
)
@dataclass(frozen=True)
class RoadTrafficParameters:
    """road_traffic.toml plus the freight intensities of freight_by_sector.csv."""

    commute_share_of_car_km: float
    line_samples: int
    biofuel_share_years: tuple[int, ...]
    biofuel_share: tuple[float, ...]
    bus_km_per_resident_by_centrality: tuple[float, ...]
    corridors: tuple[Corridor, ...]

    def biofuel(self, year: int) -> float:
        """Physical biofuel share of road petrol and diesel in ``year``."""
        return float(np.interp(year, self.biofuel_share_years, self.biofuel_share))


@dataclass(frozen=True)
class StationSpec:
    """Capacity of one energy station."""

    carriers: tuple[str, ...]
    charge_points: int
    power_mw: float
    hydrogen_kg_per_day: float
    biogas_kg_per_day: float


@dataclass(frozen=True)
class Siting:
    """Parameters of the siting rules."""

    hub_separation_km: float


@dataclass(frozen=True)
class GridParameters:
    """Grid headroom for new transport loads and the peak of charging."""

    headroom_kw_per_resident: float
    headroom_kw_per_resident_oslo: float
    headroom_growth_per_year: float
    charging_peak_factor: float
    station_peak_share: float


def _check_carriers(carriers: tuple[str, ...], path: Path, where: str) -> None:
    unknown = sorted(set(carriers) - set(STATION_CARRIERS))
    if unknown or not carriers:
        raise ParameterError(
            f"{path}: field '{where}' is {list(carriers)}; allowed: one or more of "
            f"{', '.join(STATION_CARRIERS)}"
        )


def _check_default_station(stations: StationParameters, path: Path) -> None:
    """The default station offers one or more known carriers."""
    _check_carriers(stations.default_station.carriers, path, "default_station.carriers")


@parameter_file("energy_stations.toml", check=_check_default_station)
@dataclass(frozen=True)
class StationParameters:
    """energy_stations.toml."""

    local_reach_km: float
    corridor_reach_km: float
    corridor_access_km: float
    existing_coverage_local: float
    existing_coverage_corridor: float
    potential_years: tuple[int, ...]
    potential_electric: tuple[float, ...]
    potential_hydrogen: tuple[float, ...]
    potential_biogas: tuple[float, ...]
    public_energy_share_local: float
    public_energy_share_corridor: float
    hydrogen_kg_per_km: float
    biogas_kg_per_km: float
    max_load_factor: float
    default_station: StationSpec
    siting: Siting
    grid: GridParameters

    def potential(self, carrier: str, year: int) -> float:
        """Share of new heavy vehicles using ``carrier`` in ``year`` at full coverage."""
        path = getattr(self, f"potential_{'electric' if carrier == 'electricity' else carrier}")
        return float(np.interp(year, self.potential_years, path))


@dataclass(frozen=True)
class TargetPath:
    """A climate target: cuts relative to the reference year, at listed years."""

    target_years: tuple[int, ...]
    cut_share: tuple[float, ...]


@dataclass(frozen=True)
class ClimateTargets:
    """Default target path and the municipalities' own."""

    reference_year: int
    target_years: tuple[int, ...]
    cut_share: tuple[float, ...]
    municipality: dict[str, TargetPath]

    def path_for(self, kommunenummer: str) -> TargetPath:
        """The target path of one municipality (its own, or the default)."""
        return self.municipality.get(kommunenummer, TargetPath(self.target_years, self.cut_share))


def _check_sector_drivers(ledger: LedgerParameters, path: Path) -> None:
    """Every sector's emissions follow a known driver."""
    for sector, driver in ledger.sector_driver.items():
        if driver not in SECTOR_DRIVERS:
            raise ParameterError(
                f"{path}: field 'sector_driver.{sector}' is {driver!r}; "
                f"allowed: {', '.join(SECTOR_DRIVERS)}"
            )


@parameter_file("emissions.toml", check=_check_sector_drivers)
@dataclass(frozen=True)
class LedgerParameters:
    """emissions.toml."""

    trend_first_year: int
    trend_last_year: int
    trend_min_per_year: float
    trend_max_per_year: float
    sector_driver: dict[str, str]
    climate_targets: ClimateTargets


def _check_vehicle_km_factors(calibration: Calibration, path: Path) -> None:
    """One vehicle-km factor per vehicle class."""
    if set(calibration.vehicle_km_factor) != set(VEHICLE_CLASSES):
        raise ParameterError(
            f"{path}: field 'vehicle_km_factor' must name exactly {', '.join(VEHICLE_CLASSES)}"
        )


@parameter_file("emissions_calibration.toml", check=_check_vehicle_km_factors)
@dataclass(frozen=True)
class Calibration:
    """emissions_calibration.toml: vehicle-km factors fitted on Oslo's road emissions."""

    vehicle_km_factor: dict[str, float]
    fitted_on: str


@dataclass(frozen=True)
class EmissionParameters:
    """Everything the fleet, road traffic, stations and ledger read."""

    fleet: FleetParameters
    road: RoadTrafficParameters
    van_km_per_job_year: np.ndarray  # by job sector
    heavy_km_per_job_year: np.ndarray
    stations: StationParameters
    ledger: LedgerParameters
    calibration: Calibration


def load_emission_parameters(
    folder: Path = PARAMETERS_DIR, sector_codes: tuple[str, ...] | None = None
) -> EmissionParameters:
    """Read and check every emissions parameter file in ``folder``.

    ``sector_codes`` (the job sectors in the model's order) orders the freight intensities.
    """
    fleet = load_parameters(FleetParameters, folder)
    road = load_parameters(RoadTrafficParameters, folder)
    stations = load_parameters(StationParameters, folder)
    ledger = load_parameters(LedgerParameters, folder)
    calibration = load_parameters(Calibration, folder)
    van, heavy = _freight_intensities(Path(folder) / "freight_by_sector.csv", sector_codes)
    return EmissionParameters(fleet, road, van, heavy, stations, ledger, calibration)


def _freight_intensities(
    path: Path, sector_codes: tuple[str, ...] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Van and heavy-vehicle km per job and year, in the order of ``sector_codes``."""
    table = read_csv(path, ("sector_code", "van_km_per_job_year", "heavy_km_per_job_year"))
    table = table.set_index("sector_code")
    codes = list(sector_codes) if sector_codes is not None else list(table.index)
    missing = [code for code in codes if code not in table.index]
    if missing:
        raise ParameterError(f"{path}: column 'sector_code' has no row for '{missing[0]}'")
    table = table.loc[codes]
    for column in ("van_km_per_job_year", "heavy_km_per_job_year"):
        if (table[column] < 0).any() or table[column].isna().any():
            raise ParameterError(f"{path}: column '{column}' must be numbers >= 0")
    return (
        table["van_km_per_job_year"].to_numpy(float),
        table["heavy_km_per_job_year"].to_numpy(float),
    )
