"""Mode choice of commute trips: a multinomial logit over car, public transport, bike and walk.

For a worker living in zone ``h`` and working in zone ``w`` the systematic utility of mode
``m`` is ``V_m = k_m - beta (t_m + 60 * cost_m / value_of_time)`` with the peak skims
``t_m`` (``model.transport.skims``) and the one-way money cost ``cost_m``:

* car: ``(car_cost + road_price) * road km`` plus the toll ring's price when the trip passes
  it (one end inside the ring, the other outside);
* public transport: ``fare_factor * (fare per trip + fare per km * km)``; its time is the
  logsum of rail (with access, wait and transfers) and local bus/tram/metro, and the same
  logit with scale ``pt_submode_scale_per_min`` splits public transport trips into rail and
  local ones;
* bike and walk: time only; not offered above their caps (time ``inf``).

The constants ``k_m`` (walk = 0) are calibrated so that the shares of the calibration area
(Oslo and Akershus, the Ruter area) equal the observed shares (``calibrate_constants``).
Expected trips (probabilities times the worker's weight) are summed, not sampled: scenario
differences then carry no mode-choice noise. Each worker makes two commute trips per
commuting day, ``commute_days_per_year * (1 - remote_work_share)`` days a year.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.parameters import ParameterError, parameter_file
from model.transport.skims import ActiveParameters, active_min

MODES = ("car", "pt", "bike", "walk")
MIN_PER_H = 60.0
INTRA_CELL_KM = 0.5  # mean straight-line distance of a trip inside one 1 km cell (about 0.52)
TRIPS_PER_COMMUTING_DAY = 2


def _check_modes_and_shares(params: ModeChoiceParameters, path: Path) -> None:
    """Constants and shares name exactly the four modes; shares lie in [0, 1] and sum to 1."""
    for field in ("constant", "target_share", "validation_share"):
        table = getattr(params, field)
        if set(table) != set(MODES):
            raise ParameterError(
                f"{path}: field '{field}' has modes {sorted(table)}; allowed: exactly {MODES}"
            )
    if any(not 0.0 <= value <= 1.0 for value in params.no_car_share.values()):
        raise ParameterError(f"{path}: field 'no_car_share' must hold shares in [0, 1]")
    for field in ("target_share", "validation_share"):
        if abs(sum(getattr(params, field).values()) - 1.0) > 1e-6:
            raise ParameterError(f"{path}: field '{field}' must sum to 1")


@parameter_file(
    "mode_choice.toml",
    ranges={
        "time_coefficient_per_min": (0.0, 1.0, False),
        "value_of_time_nok_per_h": (0.0, 10_000.0, False),
        "pt_submode_scale_per_min": (0.0, 10.0, False),
        "car_cost_nok_per_km": (0.0, 100.0, True),
        "car_occupancy_persons": (1.0, 5.0, True),
        "pt_fare_nok_per_trip": (0.0, 1000.0, True),
        "pt_fare_nok_per_km": (0.0, 100.0, True),
        "toll_ring_nok_per_passage": (0.0, 1000.0, True),
        "toll_ring_radius_km": (0.0, 100.0, True),
        "commute_days_per_year": (0.0, 366.0, True),
        "remote_work_share": (0.0, 1.0, True),
        "no_car_share_elsewhere": (0.0, 1.0, True),
    },
    check=_check_modes_and_shares,
)
@dataclass(frozen=True)
class ModeChoiceParameters:
    """Coefficients, costs and calibration targets (data/parameters/mode_choice.toml)."""

    time_coefficient_per_min: float
    value_of_time_nok_per_h: float
    constant: dict[str, float]
    pt_submode_scale_per_min: float
    car_cost_nok_per_km: float
    car_occupancy_persons: float
    pt_fare_nok_per_trip: float
    pt_fare_nok_per_km: float
    toll_ring_nok_per_passage: float
    toll_ring_centre_municipality: str
    toll_ring_radius_km: float
    commute_days_per_year: float
    remote_work_share: float
    calibration_area_prefixes: tuple[str, ...]
    target_share: dict[str, float]
    no_car_share: dict[str, float]
    no_car_share_elsewhere: float
    validation_municipality: str
    validation_share: dict[str, float]


@dataclass(frozen=True)
class TransportLevers:
    """Scenario levers of commuting (scenario section ``[transport]``).

    ``None`` keeps the value of ``mode_choice.toml``.
    """

    road_price_nok_per_km: float = 0.0
    toll_ring_nok_per_passage: float | None = None
    pt_fare_factor: float = 1.0
    pt_frequency_factor: float = 1.0
    remote_work_share: float | None = None


def no_car_share_by_municipality(
    params: ModeChoiceParameters, codes: tuple[str, ...]
) -> np.ndarray:
    """Share of persons without a car in the household, per municipality index."""
    return np.array(
        [params.no_car_share.get(code, params.no_car_share_elsewhere) for code in codes]
    )


@dataclass(frozen=True)
class CommuteSkims:
    """Per worker: peak minutes by (sub)mode, km by mode and toll-ring passages per trip."""

    minutes: dict[str, np.ndarray]  # car, pt_rail, pt_local, bike, walk
    km: dict[str, np.ndarray]  # car, pt, bike, walk: network km of the one-way trip
    toll_passages: np.ndarray  # 0 or 1 per one-way trip


def worker_skims(
    home_cell: np.ndarray,
    work_cell: np.ndarray,
    cell_zone: np.ndarray,
    cell_easting_m: np.ndarray,
    cell_northing_m: np.ndarray,
    matrices: dict[str, np.ndarray],
    detour: dict[str, float],
    active: ActiveParameters,
    inside_toll_ring: np.ndarray,
) -> CommuteSkims:
    """Each worker's minutes and km between home and work.

    Car and public transport minutes are the zone skims of the two cells' zones; distances
    are between the 1 km cells (``INTRA_CELL_KM`` inside one cell) times each mode's detour,
    and bike and walk minutes follow from them, so short trips inside a 5 km zone keep their
    real length. ``inside_toll_ring`` is per zone.
    """
    home_zone, work_zone = cell_zone[home_cell], cell_zone[work_cell]
    straight_km = (
        np.hypot(
            cell_easting_m[home_cell] - cell_easting_m[work_cell],
            cell_northing_m[home_cell] - cell_northing_m[work_cell],
        )
        / 1000.0
    )
    straight_km = np.maximum(straight_km, INTRA_CELL_KM)
    bike, walk = active_min(straight_km, active)
    minutes = {
        "car": matrices["car"][home_zone, work_zone].astype(float),
        "pt_rail": matrices["pt_rail"][home_zone, work_zone].astype(float),
        "pt_local": matrices["pt_local"][home_zone, work_zone].astype(float),
        "bike": bike,
        "walk": walk,
    }
    km = {mode: straight_km * detour[mode] for mode in MODES}
    passages = (inside_toll_ring[home_zone] != inside_toll_ring[work_zone]).astype(float)
    return CommuteSkims(minutes, km, passages)


def systematic_utility(
    skims: CommuteSkims, params: ModeChoiceParameters, levers: TransportLevers
) -> tuple[np.ndarray, np.ndarray]:
    """Utilities without constants (workers x MODES) and the rail share of public transport."""
    beta = params.time_coefficient_per_min
    min_per_nok = MIN_PER_H / params.value_of_time_nok_per_h
    toll = (
        params.toll_ring_nok_per_passage
        if levers.toll_ring_nok_per_passage is None
        else levers.toll_ring_nok_per_passage
    )
    car_nok = (params.car_cost_nok_per_km + levers.road_price_nok_per_km) * skims.km[
        "car"
    ] + toll * skims.toll_passages
    pt_nok = levers.pt_fare_factor * (
        params.pt_fare_nok_per_trip + params.pt_fare_nok_per_km * skims.km["pt"]
    )
    scale = params.pt_submode_scale_per_min
    rail, local = skims.minutes["pt_rail"], skims.minutes["pt_local"]
    pt_minutes = -np.logaddexp(-scale * rail, -scale * local) / scale
    rail_share = np.exp(-scale * rail - np.logaddexp(-scale * rail, -scale * local))
    utility = np.column_stack(
        [
            -beta * (skims.minutes["car"] + min_per_nok * car_nok),
            -beta * (pt_minutes + min_per_nok * pt_nok),
            -beta * skims.minutes["bike"],
            -beta * skims.minutes["walk"],
        ]
    )
    return utility, rail_share


def probabilities(utility: np.ndarray, constant: dict[str, float]) -> np.ndarray:
    """Logit probabilities (workers x MODES); a mode with utility ``-inf`` gets 0."""
    v = utility + np.array([constant[mode] for mode in MODES])
    v = v - v.max(axis=1, keepdims=True)
    e = np.exp(v)
    return e / e.sum(axis=1, keepdims=True)


def expected_probabilities(
    utility: np.ndarray, constant: dict[str, float], no_car_share: np.ndarray
) -> np.ndarray:
    """Probabilities averaged over car availability.

    A share ``no_car_share`` of each worker's kind lives in a household without a car and
    chooses among the other modes only.
    """
    with_car = probabilities(utility, constant)
    without = utility.copy()
    without[:, MODES.index("car")] = -np.inf
    no_car = np.asarray(no_car_share, float)[:, None]
    return (1.0 - no_car) * with_car + no_car * probabilities(without, constant)


def shares(probability: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted mode shares of a group of workers."""
    totals = weight @ probability
    return totals / totals.sum()


def calibrate_constants(
    utility: np.ndarray,
    weight: np.ndarray,
    no_car_share: np.ndarray,
    target_share: dict[str, float],
    iterations: int = 200,
) -> dict[str, float]:
    """Constants (walk = 0) that reproduce ``target_share`` for these workers.

    The classic update ``k_m += log(target_m / model_m)``, normalised so walk stays at 0.
    """
    target = np.array([target_share[mode] for mode in MODES])
    constant = np.zeros(len(MODES))
    walk = MODES.index("walk")
    for _ in range(iterations):
        current = dict(zip(MODES, constant, strict=True))
        model = shares(expected_probabilities(utility, current, no_car_share), weight)
        constant += np.log(target / model)
        constant -= constant[walk]
    return {mode: round(float(value), 4) for mode, value in zip(MODES, constant, strict=True)}


def commute_trips_per_worker(params: ModeChoiceParameters, levers: TransportLevers) -> float:
    """Commute trips a year of a worker, after remote work."""
    remote = (
        params.remote_work_share if levers.remote_work_share is None else levers.remote_work_share
    )
    return TRIPS_PER_COMMUTING_DAY * params.commute_days_per_year * (1.0 - remote)


def commute_indicators(
    home_municipality: np.ndarray,
    weight: np.ndarray,
    probability: np.ndarray,
    rail_share: np.ndarray,
    skims: CommuteSkims,
    params: ModeChoiceParameters,
    levers: TransportLevers,
    n_municipalities: int,
) -> dict[str, np.ndarray]:
    """Yearly commute trips and person-km by mode and car vehicle-km, by home municipality."""
    trips_per_worker = commute_trips_per_worker(params, levers)
    result: dict[str, np.ndarray] = {}
    for k, mode in enumerate(MODES):
        trips = weight * trips_per_worker * probability[:, k]
        result[f"commute_trips_{mode}"] = np.bincount(home_municipality, trips, n_municipalities)
        result[f"commute_person_km_{mode}"] = np.bincount(
            home_municipality, trips * skims.km[mode], n_municipalities
        )
    rail_trips = weight * trips_per_worker * probability[:, MODES.index("pt")] * rail_share
    result["commute_trips_rail"] = np.bincount(home_municipality, rail_trips, n_municipalities)
    result["commute_car_vehicle_km"] = (
        result["commute_person_km_car"] / params.car_occupancy_persons
    )
    return result
