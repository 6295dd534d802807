"""Commuting distribution: a doubly-constrained gravity model between municipalities.

``T_ij = A_i O_i B_j D_j f_ij`` with ``f_ij = exp(-beta c_ij)`` and an intra-municipal stay
factor ``exp(stay + stay_i)`` on the diagonal: one constant for the region, plus one per
municipality that the calibration solves so that each municipality's residents working in
it match SSB 03321. ``A_i`` and ``B_j`` are balancing factors found by Furness (iterative
proportional fitting), so row sums equal the employed residents ``O_i`` and column sums the
jobs ``D_j``.

The generalised time ``c`` comes from the transport skims: per zone pair a logsum over car,
public transport, bike and walk (``generalised_cost_min``), then a municipality pair's cost is
the logsum of its zone pairs weighted by the origin zones' population and the destination
zones' jobs (``aggregate_cost``): ``exp(-beta c_IJ)`` is the weighted mean of
``exp(-beta c_zy)``, so the municipality model equals a zone-level gravity model summed up.

The target is SSB table 03321 (2022) restricted to home and work both in the region: rows are
employed residents working inside the region, columns are jobs in the region filled by
residents of the region. Commuting to or from outside (``OUT`` and other municipalities) is
left out of the matrix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

from model.bundle import Bundle
from model.parameters import load_parameters, municipal_values, parameter_file
from model.transport.skims import Skims
from model.world import World

M_PER_KM = 1000.0
_POSITIVE = (0.0, float("inf"), False)


@parameter_file(
    "commuting.toml",
    ranges={
        "beta_per_min": _POSITIVE,
        "stay_constant": (-10.0, 10.0, True),
        "logsum_scale_per_min": _POSITIVE,
        "straight_line_beta_per_km": _POSITIVE,
        "max_iterations": (1, 100_000, True),
        "tolerance": _POSITIVE,
        "oslo_tolerance": (0.0, 1.0, True),
    },
)
@dataclass(frozen=True)
class CommutingParameters:
    """Gravity, generalised-time and calibration parameters (commuting.toml)."""

    beta_per_min: float
    stay_constant: float
    stay_constant_by_municipality: dict[str, float]  # added to stay_constant, by number
    logsum_scale_per_min: float
    mode_constant_min: dict[str, float]
    straight_line_beta_per_km: float
    max_iterations: int
    tolerance: float
    oslo_code: str
    oslo_tolerance: float


@dataclass(frozen=True)
class CommutingInputs:
    """Zone-level generalised time and weights, plus municipality centre distances."""

    zone_cost_min: np.ndarray  # zone x zone generalised minutes
    zone_municipality: np.ndarray  # municipality index of every zone
    zone_population: np.ndarray  # origin weights
    zone_jobs: np.ndarray  # destination weights
    centre_distance_km: np.ndarray  # municipality x municipality, straight line


def observed_matrix(bundle: Bundle, codes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 03321 matrix of home x work within ``codes``, its row sums and column sums."""
    od = bundle["commuting_od.csv"]
    inside = od["home_kommunenummer"].isin(codes) & od["work_kommunenummer"].isin(codes)
    od = od[inside]
    index_of = {code: i for i, code in enumerate(codes)}
    matrix = np.zeros((len(codes), len(codes)))
    np.add.at(
        matrix,
        (od["home_kommunenummer"].map(index_of), od["work_kommunenummer"].map(index_of)),
        od["employed_persons"].to_numpy(float),
    )
    return matrix, matrix.sum(axis=1), matrix.sum(axis=0)


def generalised_cost_min(
    skims_by_mode: dict[str, np.ndarray], params: CommutingParameters
) -> np.ndarray:
    """Logsum over modes of time + mode constant, in minutes (zone or municipality pairs).

    ``c = -1/mu log(sum_m exp(-mu (t_m + k_m)))``; a mode not offered (``inf``) drops out.
    """
    mu = params.logsum_scale_per_min
    utilities = [
        -mu * (np.asarray(skims_by_mode[mode], float) + constant)
        for mode, constant in params.mode_constant_min.items()
    ]
    top = functools.reduce(np.maximum, utilities)
    total = np.zeros_like(top)
    for utility in utilities:  # in place: four Z x Z temporaries fewer than np.stack
        utility -= top
        np.exp(utility, out=utility)
        total += utility
    return -(top + np.log(total)) / mu


def aggregate_cost(
    zone_cost: np.ndarray,
    zone_municipality: np.ndarray,
    origin_weight: np.ndarray,
    destination_weight: np.ndarray,
    n_municipalities: int,
    beta_per_min: float,
) -> np.ndarray:
    """Municipality x municipality cost whose deterrence is the weighted mean over zone pairs.

    ``exp(-beta c_IJ) = sum w_z v_y exp(-beta c_zy) / (sum w_z sum v_y)`` over zones ``z`` of
    ``I`` (weights ``w``: population) and ``y`` of ``J`` (weights ``v``: jobs). A municipality
    without weight at one end falls back to equal zone weights there.
    """
    zones = np.arange(len(zone_municipality))
    members = []
    for weight in (origin_weight, destination_weight):
        w = np.asarray(weight, float)
        total = np.bincount(zone_municipality, w, n_municipalities)
        w = np.where(total[zone_municipality] > 0, w, 1.0)
        member = np.zeros((n_municipalities, len(zones)))
        member[zone_municipality, zones] = w
        members.append(member / member.sum(axis=1, keepdims=True))
    deterrence = members[0] @ np.exp(-beta_per_min * zone_cost) @ members[1].T
    with np.errstate(divide="ignore"):
        return -np.log(deterrence) / beta_per_min


def furness(
    seed: np.ndarray,
    origins: np.ndarray,
    destinations: np.ndarray,
    max_iterations: int = 100,
    tolerance: float = 1e-9,
    relaxation: float = 1.5,
) -> tuple[np.ndarray, int]:
    """Scale ``seed`` rows and columns to the margins; the matrix and the iterations used.

    Furness with over-relaxation: each step multiplies the balancing factors by
    ``(target / current) ** relaxation`` (1 is classic Furness; 1.5 needs ~45 instead of ~180
    iterations for 1e-9 here). A final exact column step makes column sums exact; iteration
    stops when every row sum is then within ``tolerance`` (relative) of its origin total.
    """
    origins, destinations = np.asarray(origins, float), np.asarray(destinations, float)
    a, b = np.ones(len(origins)), np.ones(len(destinations))
    exact_b = b
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        a = a * _ratio(origins, a * (seed @ b)) ** relaxation
        b = b * _ratio(destinations, b * (seed.T @ a)) ** relaxation
        exact_b = _ratio(destinations, seed.T @ a)
        rows = a * (seed @ exact_b)
        if np.all(np.abs(rows - origins) <= tolerance * np.maximum(origins, 1.0)):
            break
    return a[:, None] * seed * exact_b[None, :], iteration


def furness_blocks(
    seeds: list[np.ndarray],
    origins: list[np.ndarray],
    destinations: list[np.ndarray],
    max_iterations: int = 100,
    tolerance: float = 1e-9,
    relaxation: float = 1.5,
) -> list[np.ndarray]:
    """``furness`` on many independent matrices at once: the balanced matrices, in order.

    The blocks sit on the diagonal of one sparse matrix, so an iteration is three sparse
    products instead of a few dozen small numpy calls per block. A block stops changing once
    it meets ``tolerance``, as it would alone; only the order of additions in the products
    differs from ``furness``.
    """
    k = len(seeds)
    matrix = _block_diagonal(seeds)
    transposed = matrix.T.tocsr()
    o = np.concatenate([np.asarray(x, float) for x in origins])
    d = np.concatenate([np.asarray(x, float) for x in destinations])
    row_block = np.repeat(np.arange(k), [len(x) for x in origins])
    column_block = np.repeat(np.arange(k), [len(x) for x in destinations])
    a, b = np.ones(len(o)), np.ones(len(d))
    exact_b = b
    active = np.ones(k, dtype=bool)
    for _ in range(max_iterations):
        rows_active, columns_active = active[row_block], active[column_block]
        a = np.where(rows_active, a * _ratio(o, a * (matrix @ b)) ** relaxation, a)
        column_sums = transposed @ a
        b = np.where(columns_active, b * _ratio(d, b * column_sums) ** relaxation, b)
        exact_b = np.where(columns_active, _ratio(d, column_sums), exact_b)
        rows = a * (matrix @ exact_b)
        off = np.abs(rows - o) > tolerance * np.maximum(o, 1.0)
        active &= np.bincount(row_block, off, k) > 0
        if not active.any():
            break
    row_ends = np.cumsum([len(x) for x in origins])
    column_ends = np.cumsum([len(x) for x in destinations])
    return [
        a[row_end - seed.shape[0] : row_end, None]
        * seed
        * exact_b[None, column_end - seed.shape[1] : column_end]
        for seed, row_end, column_end in zip(seeds, row_ends, column_ends, strict=True)
    ]


def _block_diagonal(blocks: list[np.ndarray]) -> sparse.csr_array:
    """The dense ``blocks`` on the diagonal of one sparse (CSR) matrix, every entry kept."""
    heights = np.array([block.shape[0] for block in blocks])
    widths = np.array([block.shape[1] for block in blocks])
    column_start = np.concatenate([[0], np.cumsum(widths)[:-1]])
    indices = np.concatenate(
        [
            np.tile(np.arange(width) + start, height)
            for height, width, start in zip(heights, widths, column_start, strict=True)
        ]
    )
    indptr = np.concatenate([[0], np.cumsum(np.repeat(widths, heights))])
    data = np.concatenate([np.asarray(block, float).ravel() for block in blocks])
    return sparse.csr_array((data, indices, indptr), shape=(heights.sum(), widths.sum()))


def _ratio(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``target / current``, 0 where ``current`` is 0."""
    return np.divide(target, current, out=np.zeros_like(target), where=current > 0)


def gravity(
    origins: np.ndarray,
    destinations: np.ndarray,
    cost: np.ndarray,
    params: CommutingParameters,
    codes: tuple[str, ...] | list[str] | None = None,
) -> np.ndarray:
    """Doubly-constrained flows with ``exp(-beta cost)`` and the stay factor on the diagonal.

    With the municipality numbers ``codes`` (in the order of the matrix), each
    municipality's stay factor adds its ``stay_constant_by_municipality``.
    """
    seed = np.exp(-params.beta_per_min * np.asarray(cost, float))
    stay = np.full(len(seed), params.stay_constant)
    if codes is not None:
        stay += municipal_values(params.stay_constant_by_municipality, codes)
    seed[np.diag_indices_from(seed)] *= np.exp(stay)
    flows, _ = furness(seed, origins, destinations, params.max_iterations, params.tolerance)
    return flows


def straight_line_gravity(
    origins: np.ndarray, destinations: np.ndarray, distance_km: np.ndarray, beta_per_km: float
) -> np.ndarray:
    """The baseline: doubly-constrained ``exp(-beta d)`` on centre-to-centre distance."""
    seed = np.exp(-beta_per_km * np.asarray(distance_km, float))
    flows, _ = furness(seed, origins, destinations, 100, 1e-9)
    return flows


def centre_distance_km(easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Straight-line km between municipality centres (0 on the diagonal)."""
    return (
        np.hypot(easting_m[:, None] - easting_m[None, :], northing_m[:, None] - northing_m[None, :])
        / M_PER_KM
    )


def cpc(model: np.ndarray, observed: np.ndarray, off_diagonal: bool = False) -> float:
    """Common part of commuters, Sørensen form ``2 sum min(T, S) / (sum T + sum S)``.

    ``off_diagonal`` keeps only pairs with home and work in different municipalities.
    """
    model, observed = np.asarray(model, float), np.asarray(observed, float)
    if off_diagonal:
        keep = ~np.eye(len(observed), dtype=bool)
        model, observed = model[keep], observed[keep]
    return float(2 * np.minimum(model, observed).sum() / (model.sum() + observed.sum()))


def in_commuters(matrix: np.ndarray, j: int) -> float:
    """Persons working in municipality ``j`` who live in another one."""
    return float(matrix[:, j].sum() - matrix[j, j])


def build_inputs(
    bundle: Bundle,
    codes: list[str],
    params: CommutingParameters,
    seed: int = 1,
    scale: float = 0.05,
) -> CommutingInputs:
    """Skims weighted by synthetic population, zone population and jobs, centre distances.

    Cell population and jobs come from a synthetic base year (``RegionModel(seed, scale)``);
    zone centroids are population-weighted.
    """
    from model.region_model import RegionModel  # heavy import, only here
    from model.transport.skims import TransportParameters, build_skims
    from model.world import build_world

    world = build_world(bundle, codes)
    counts = RegionModel(seed=seed, scale=scale, region=codes, data_dir=bundle.path).cell_counts()
    skims = build_skims(world, bundle, load_parameters(TransportParameters), counts["population"])
    return inputs_from(world, skims, counts["population"], counts["jobs"], params)


def inputs_from(
    world: World,
    skims: Skims,
    population_per_cell: np.ndarray,
    jobs_per_cell: np.ndarray,
    params: CommutingParameters,
) -> CommutingInputs:
    """Commuting inputs from a model's own world, skims and cell counts."""
    zones = skims.zones
    modes = {mode: skims.matrices[mode] for mode in params.mode_constant_min}
    return CommutingInputs(
        zone_cost_min=generalised_cost_min(modes, params),
        zone_municipality=zones.municipality.astype(np.int64),
        zone_population=np.bincount(zones.cell_zone, population_per_cell, zones.n_zones),
        zone_jobs=np.bincount(zones.cell_zone, jobs_per_cell, zones.n_zones),
        centre_distance_km=centre_distance_km(world.centre_easting_m, world.centre_northing_m),
    )


def inside_shares(bundle: Bundle, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each municipality's commuting that stay inside the region.

    Returns the share of employed residents working inside the region and the share of jobs
    filled by residents of the region (SSB 03321 and 11618, 2022).
    """
    _, rows, columns = observed_matrix(bundle, codes)
    employment = bundle["employment.csv"].set_index("kommunenummer").loc[codes]
    residents = employment["employed_by_residence"].to_numpy(float)
    jobs = employment["employed_by_workplace_jobs"].to_numpy(float)
    return (
        np.divide(rows, residents, out=np.ones(len(codes)), where=residents > 0),
        np.divide(columns, jobs, out=np.ones(len(codes)), where=jobs > 0),
    )


def municipality_cost(inputs: CommutingInputs, params: CommutingParameters) -> np.ndarray:
    """Municipality generalised minutes for the parameters' ``beta`` (see aggregate_cost)."""
    return aggregate_cost(
        inputs.zone_cost_min,
        inputs.zone_municipality,
        inputs.zone_population,
        inputs.zone_jobs,
        len(inputs.centre_distance_km),
        params.beta_per_min,
    )


def model_matrix(
    inputs: CommutingInputs,
    origins: np.ndarray,
    destinations: np.ndarray,
    params: CommutingParameters,
) -> np.ndarray:
    """The generalised-time gravity matrix for ``params``."""
    return gravity(origins, destinations, municipality_cost(inputs, params), params)


def summary(model: np.ndarray, observed: np.ndarray, oslo: int) -> dict[str, float]:
    """CPC overall and off the diagonal, Oslo in-commuters model and statistic."""
    return {
        "cpc": cpc(model, observed),
        "cpc_off_diagonal": cpc(model, observed, off_diagonal=True),
        "oslo_in_commuters_model": in_commuters(model, oslo),
        "oslo_in_commuters_observed": in_commuters(observed, oslo),
        "oslo_in_commuters_error": in_commuters(model, oslo) / in_commuters(observed, oslo) - 1,
    }


def calibrate(
    inputs: CommutingInputs,
    observed: np.ndarray,
    codes: list[str],
    params: CommutingParameters,
) -> tuple[CommutingParameters, dict[str, Any]]:
    """Fit ``beta`` and ``stay`` (and the straight-line ``beta``) to the observed matrix.

    Objective: CPC overall + CPC off the diagonal, with a steep penalty when Oslo's
    in-commuters miss the statistic by more than ``oslo_tolerance``. A coarse grid picks the
    start, Nelder-Mead refines. Mode constants and the logsum scale stay as in the file.
    """
    origins, destinations = observed.sum(axis=1), observed.sum(axis=0)
    oslo = codes.index(params.oslo_code)

    def fitted(x: np.ndarray) -> CommutingParameters:
        return replace(params, beta_per_min=float(x[0]), stay_constant=float(x[1]))

    def loss(x: np.ndarray) -> float:
        if x[0] <= 0:
            return 10.0
        stats = summary(model_matrix(inputs, origins, destinations, fitted(x)), observed, oslo)
        miss = max(0.0, abs(stats["oslo_in_commuters_error"]) - params.oslo_tolerance)
        return -(stats["cpc"] + stats["cpc_off_diagonal"]) + 100.0 * miss

    grid = [np.array((b, s)) for b in (0.04, 0.06, 0.08, 0.1) for s in (0.0, 0.4, 0.8)]
    start = min(grid, key=loss)
    result = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    best = fitted(result.x)

    def line_loss(beta: float) -> float:
        flows = straight_line_gravity(origins, destinations, inputs.centre_distance_km, beta)
        return -cpc(flows, observed)

    betas = np.linspace(0.02, 0.4, 39)
    beta0 = betas[int(np.argmin([line_loss(b) for b in betas]))]
    line = minimize(lambda x: line_loss(float(x[0])), [beta0], method="Nelder-Mead")
    best = replace(best, straight_line_beta_per_km=float(line.x[0]))
    model = model_matrix(inputs, origins, destinations, best)
    baseline = straight_line_gravity(
        origins, destinations, inputs.centre_distance_km, best.straight_line_beta_per_km
    )
    report = {
        "generalised_time": summary(model, observed, oslo),
        "straight_line": summary(baseline, observed, oslo),
        "beta_per_min": best.beta_per_min,
        "stay_constant": best.stay_constant,
        "straight_line_beta_per_km": best.straight_line_beta_per_km,
    }
    return best, report
