"""The rail network: active stations joined along their Bane NOR lines.

Nodes are the active (non-museum) stations of the bundle. For each line named in a station's
``lines_all``, the line's stations are joined by a minimum spanning tree over straight-line
distances: lines are nearly chains, so the tree follows the track closely. An edge's
in-vehicle time is ``distance x detour / line speed + dwell`` (the dwell counts the stop at
the edge's end), unless ``edge_time_min`` fixes it (Follobanen Oslo S-Ski, 11 min).

Transfers use line-specific node copies: every (station, line) pair is a node, edges of a
line join its copies, and changing between two copies at a station costs the transfer
penalty, except between lines whose trains run through (``through_running``). Shortest
paths run from a per-station entry node (into every copy) to a per-station exit node (out
of every copy), so a trip may start and end on any line of its stations.

Rail projects are levers: :func:`with_edge_times` returns a network with added or changed
edges (e.g. Ringeriksbanen, Sandvika-Hønefoss in 20 min).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree

from model.bundle import Bundle
from model.geo import lonlat_to_utm33
from model.parameters import (
    PARAMETERS_DIR,
    ParameterError,
    build_parameters,
    parameter_file,
    read_parameter_file,
)

M_PER_KM = 1000.0
MIN_PER_H = 60.0
# csgraph drops explicit zeros of sparse matrices in some operations; free moves (entry,
# exit, through-running changes) cost this instead, far below any real time.
_FREE_MIN = 1e-6


# Allowed values of the [rail] fields; TransportParameters checks them as "rail.<field>".
RAIL_RANGES = {
    "detour_factor": (1.0, 3.0, True),
    "default_speed_kmh": (0.0, 300.0, False),
    "dwell_min": (0.0, 10.0, True),
    "service_hours": (0.0, 24.0, False),
    "wait_min_min": (0.0, 60.0, True),
    "wait_max_min": (0.0, 240.0, False),
    "unknown_departures_24h": (0.0, 1000.0, False),
    "transfer_penalty_min": (0.0, 60.0, True),
}


@parameter_file("transport.toml", table="rail", ranges=RAIL_RANGES)
@dataclass(frozen=True)
class RailParameters:
    """Rail speeds, dwell, waits and transfers (transport.toml [rail])."""

    detour_factor: float
    default_speed_kmh: float
    dwell_min: float
    speed_kmh: dict[str, float]
    edge_time_min: dict[str, float]
    service_hours: float
    wait_min_min: float
    wait_max_min: float
    unknown_departures_24h: float
    transfer_penalty_min: float
    through_running: tuple[str, ...]


@dataclass(frozen=True)
class RailNetwork:
    """Stations and line edges; edge ``k`` joins stations ``edge_from[k]``-``edge_to[k]``."""

    station_names: tuple[str, ...]
    station_easting_m: np.ndarray
    station_northing_m: np.ndarray
    station_departures_24h: np.ndarray  # unknown values already filled
    station_lines: tuple[tuple[str, ...], ...]
    lines: tuple[str, ...]
    edge_from: np.ndarray  # int station index
    edge_to: np.ndarray
    edge_line: np.ndarray  # int index into lines
    edge_min: np.ndarray  # in-vehicle minutes, either direction
    through_running: frozenset[frozenset[str]]
    transfer_penalty_min: float

    @property
    def n_stations(self) -> int:
        """Number of stations (nodes)."""
        return len(self.station_names)

    def station_index(self, name: str) -> int:
        """Index of the station called ``name``."""
        try:
            return self.station_names.index(name)
        except ValueError as error:
            raise KeyError(f"rail network has no station '{name}'") from error


@dataclass(frozen=True)
class RailRoute:
    """The quickest route between two stations."""

    stations: tuple[str, ...]
    lines: tuple[str, ...]  # line of each leg
    in_vehicle_min: float
    transfers: int  # changes that cost the transfer penalty


def build_rail_network(bundle: Bundle, params: RailParameters) -> RailNetwork:
    """The network of active stations, one minimum spanning tree per line."""
    stations = bundle["rail_stations.csv"]
    stations = stations[~stations["is_museum_railway"]].reset_index(drop=True)
    easting, northing = lonlat_to_utm33(stations["lon"].to_numpy(), stations["lat"].to_numpy())
    station_lines = tuple(
        tuple(line.strip() for line in str(lines).split(";") if line.strip())
        for lines in stations["lines_all"]
    )
    lines = tuple(sorted({line for names in station_lines for line in names}))
    departures = stations["departures_24h_snapshot"].to_numpy(float)
    departures = np.where(np.isnan(departures), params.unknown_departures_24h, departures)

    edges = [_line_tree(i, line, station_lines, easting, northing) for i, line in enumerate(lines)]
    edge_from = np.concatenate([e[0] for e in edges]).astype(np.int64)
    edge_to = np.concatenate([e[1] for e in edges]).astype(np.int64)
    edge_line = np.concatenate([e[2] for e in edges]).astype(np.int64)
    distance_km = np.hypot(
        easting[edge_from] - easting[edge_to], northing[edge_from] - northing[edge_to]
    )
    distance_km /= M_PER_KM
    speed = np.array([params.speed_kmh.get(line, params.default_speed_kmh) for line in lines])
    edge_min = distance_km * params.detour_factor / speed[edge_line] * MIN_PER_H + params.dwell_min
    network = RailNetwork(
        station_names=tuple(stations["station_name"]),
        station_easting_m=easting,
        station_northing_m=northing,
        station_departures_24h=departures,
        station_lines=station_lines,
        lines=lines,
        edge_from=edge_from,
        edge_to=edge_to,
        edge_line=edge_line,
        edge_min=edge_min,
        through_running=frozenset(frozenset(pair.split("|")) for pair in params.through_running),
        transfer_penalty_min=params.transfer_penalty_min,
    )
    fixed = {tuple(key.split("|")): minutes for key, minutes in params.edge_time_min.items()}
    return with_edge_times(network, fixed)  # type: ignore[arg-type]


def _line_tree(
    line_index: int,
    line: str,
    station_lines: tuple[tuple[str, ...], ...],
    easting: np.ndarray,
    northing: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges (from, to, line) of the minimum spanning tree over one line's stations."""
    members = np.array([i for i, names in enumerate(station_lines) if line in names], int)
    if len(members) < 2:
        return np.empty(0, int), np.empty(0, int), np.empty(0, int)
    distance = np.hypot(
        easting[members, None] - easting[None, members],
        northing[members, None] - northing[None, members],
    )
    tree = minimum_spanning_tree(np.maximum(distance, 1.0)).tocoo()  # 1 m keeps twins joined
    return members[tree.row], members[tree.col], np.full(len(tree.row), line_index)


def with_edge_times(
    network: RailNetwork,
    edge_time_min: dict[tuple[str, str], float],
    line: str | None = None,
    through_running_with: tuple[str, ...] = (),
) -> RailNetwork:
    """A copy of ``network`` with edges (station A, station B) -> minutes set or added.

    An existing edge between the two stations keeps its line and takes the new time. A new
    edge belongs to ``line`` (required then; a new line name is added to both stations),
    which runs through without a transfer penalty onto the lines in ``through_running_with``.
    This is the hook for rail projects (e.g. Ringeriksbanen: Sandvika-Hønefoss, 20 min).
    """
    edge_from = network.edge_from.copy()
    edge_to = network.edge_to.copy()
    edge_line = network.edge_line.copy()
    edge_min = network.edge_min.copy()
    lines = list(network.lines)
    station_lines = [list(names) for names in network.station_lines]
    for (name_a, name_b), minutes in edge_time_min.items():
        a, b = network.station_index(name_a), network.station_index(name_b)
        existing = np.flatnonzero(
            ((edge_from == a) & (edge_to == b)) | ((edge_from == b) & (edge_to == a))
        )
        if len(existing):
            edge_min[existing] = minutes
            continue
        if line is None:
            raise ValueError(f"no edge {name_a}-{name_b}: name the line of the new edge")
        if line not in lines:
            lines.append(line)
        for station in (a, b):
            if line not in station_lines[station]:
                station_lines[station].append(line)
        edge_from = np.append(edge_from, a)
        edge_to = np.append(edge_to, b)
        edge_line = np.append(edge_line, lines.index(line))
        edge_min = np.append(edge_min, float(minutes))
    through = set(network.through_running)
    through |= {frozenset((line, other)) for other in through_running_with if line}
    return replace(
        network,
        lines=tuple(lines),
        station_lines=tuple(tuple(names) for names in station_lines),
        edge_from=edge_from,
        edge_to=edge_to,
        edge_line=edge_line,
        edge_min=edge_min,
        through_running=frozenset(through),
    )


@dataclass(frozen=True)
class _Graph:
    """The directed graph of entry, exit and (station, line) copy nodes."""

    matrix: coo_matrix
    copy_station: np.ndarray  # station of each copy node
    copy_line: np.ndarray  # line index of each copy node
    n_stations: int


def _graph(network: RailNetwork) -> _Graph:
    """Entry nodes 0..n-1, exit nodes n..2n-1, then one copy per (station, line)."""
    n = network.n_stations
    pairs = sorted(
        {
            (s, network.lines.index(line))
            for s, names in enumerate(network.station_lines)
            for line in names
        }
        | set(zip(network.edge_from.tolist(), network.edge_line.tolist(), strict=True))
        | set(zip(network.edge_to.tolist(), network.edge_line.tolist(), strict=True))
    )
    copy_station = np.array([s for s, _ in pairs], int)
    copy_line = np.array([line for _, line in pairs], int)
    copy_of = {pair: 2 * n + k for k, pair in enumerate(pairs)}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    times: list[np.ndarray] = []

    def add(r: np.ndarray, c: np.ndarray, t: np.ndarray) -> None:
        rows.append(np.asarray(r, int))
        cols.append(np.asarray(c, int))
        times.append(np.asarray(t, float))

    copies = 2 * n + np.arange(len(pairs))
    add(copy_station, copies, np.full(len(pairs), _FREE_MIN))  # entry -> copy
    add(copies, n + copy_station, np.full(len(pairs), _FREE_MIN))  # copy -> exit
    a = np.array(
        [copy_of[(s, line)] for s, line in zip(network.edge_from, network.edge_line, strict=True)]
    )
    b = np.array(
        [copy_of[(s, line)] for s, line in zip(network.edge_to, network.edge_line, strict=True)]
    )
    if len(a):
        add(np.r_[a, b], np.r_[b, a], np.r_[network.edge_min, network.edge_min])
    same = copy_station[:, None] == copy_station[None, :]
    same &= ~np.eye(len(pairs), dtype=bool)
    r, c = np.nonzero(same)
    through = np.array(
        [
            frozenset((network.lines[copy_line[i]], network.lines[copy_line[j]]))
            in network.through_running
            for i, j in zip(r, c, strict=True)
        ],
        bool,
    )
    add(copies[r], copies[c], np.where(through, _FREE_MIN, network.transfer_penalty_min))
    size = 2 * n + len(pairs)
    matrix = coo_matrix(
        (np.concatenate(times), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    return _Graph(matrix.tocsr(), copy_station, copy_line, n)


def station_times_min(network: RailNetwork) -> np.ndarray:
    """In-vehicle plus transfer-penalty minutes between all stations (inf: no connection)."""
    graph = _graph(network)
    n = graph.n_stations
    distance = dijkstra(graph.matrix, directed=True, indices=np.arange(n))
    times = distance[:, n : 2 * n]
    np.fill_diagonal(times, 0.0)
    return times


def station_wait_min(network: RailNetwork, params: RailParameters) -> np.ndarray:
    """Waiting minutes at boarding: half the headway of the less served of the two stations."""
    departures = network.station_departures_24h
    trains_per_hour = np.minimum(departures[:, None], departures[None, :]) / params.service_hours
    wait = 0.5 * MIN_PER_H / np.maximum(trains_per_hour, 1e-9)
    wait = np.clip(wait, params.wait_min_min, params.wait_max_min)
    np.fill_diagonal(wait, 0.0)
    return wait


def rail_route(network: RailNetwork, origin: str, destination: str) -> RailRoute:
    """The quickest route between two stations, its legs' lines, in-vehicle time, transfers."""
    graph = _graph(network)
    n = graph.n_stations
    start, end = network.station_index(origin), network.station_index(destination)
    distance, predecessor = dijkstra(
        graph.matrix, directed=True, indices=start, return_predecessors=True
    )
    if not np.isfinite(distance[n + end]):
        raise ValueError(f"no rail connection {origin} -> {destination}")
    path = []
    node = predecessor[n + end]
    while node >= 2 * n:
        path.append(node - 2 * n)
        node = predecessor[node]
    path.reverse()
    stations = graph.copy_station[path]
    line_of = graph.copy_line[path]
    matrix = graph.matrix.tocsr()
    in_vehicle = 0.0
    transfers = 0
    legs: list[str] = []
    for k in range(1, len(path)):
        cost = matrix[2 * n + path[k - 1], 2 * n + path[k]]
        if stations[k] == stations[k - 1]:
            transfers += int(cost > 2 * _FREE_MIN)
        else:
            in_vehicle += float(cost)
            legs.append(network.lines[line_of[k]])
    visited = [network.station_names[s] for s in stations]
    unique = tuple(name for k, name in enumerate(visited) if k == 0 or name != visited[k - 1])
    return RailRoute(unique, tuple(legs), in_vehicle, transfers)


@dataclass(frozen=True)
class RailProject:
    """A rail project: what it changes on the network from its opening year.

    Only ``title`` is required in ``rail_projects.toml``; an absent effect changes nothing.
    The effects are applied in this order:

    1. ``edge_time_min`` sets or adds edges (:func:`with_edge_times`); new edges belong to
       ``line``, which runs through onto ``through_running_with``.
    2. ``section_saving_min`` cuts the in-vehicle minutes of the quickest route between two
       stations (:func:`with_section_saving`): for sourced savings ("Eidsvoll-Hamar 20 min
       shorter") on track that is rebuilt rather than added.
    3. ``line_departures_factor`` multiplies the departures of every station on a line (a
       station on several listed lines takes the largest factor): more trains on whole lines.
    4. ``extra_departures_24h`` adds departures at named stations.
    """

    title: str
    line: str  # line of new edges; "" when the project adds none
    through_running_with: tuple[str, ...]
    edge_time_min: dict[str, float]  # "Station A|Station B" -> minutes
    section_saving_min: dict[str, float]  # "Station A|Station B" -> in-vehicle minutes saved
    line_departures_factor: dict[str, float]  # line -> factor (>= 1) on its stations' departures
    extra_departures_24h: dict[str, float]  # station -> departures added per 24 h


# Effects a catalogue entry may leave out: each defaults to "no change".
_PROJECT_DEFAULTS: dict[str, object] = {
    "line": "",
    "through_running_with": [],
    "edge_time_min": {},
    "section_saving_min": {},
    "line_departures_factor": {},
    "extra_departures_24h": {},
}


def load_rail_projects(folder: Path = PARAMETERS_DIR) -> dict[str, RailProject]:
    """The catalogue of rail projects (``rail_projects.toml``), by name."""
    path = Path(folder) / "rail_projects.toml"
    table = read_parameter_file(path)
    projects = {}
    for name, entry in table.items():
        if isinstance(entry, dict):
            entry = {**_PROJECT_DEFAULTS, **entry}
        project = build_parameters(RailProject, entry, path, f"{name}.")
        _check_project(project, path, name)
        projects[name] = project
    return projects


def _check_project(project: RailProject, path: Path, name: str) -> None:
    """Refuse effects that would make the network worse: a project only adds or speeds up."""
    checks = (
        ("edge_time_min", project.edge_time_min, 0.0, False, "minutes > 0"),
        ("section_saving_min", project.section_saving_min, 0.0, True, "minutes >= 0"),
        ("line_departures_factor", project.line_departures_factor, 1.0, True, "a factor >= 1"),
        ("extra_departures_24h", project.extra_departures_24h, 0.0, True, "departures >= 0"),
    )
    for field_name, values, low, inclusive, allowed in checks:
        for key, value in values.items():
            if value < low or (value == low and not inclusive):
                raise ParameterError(
                    f"{path}: field '{name}.{field_name}.{key}' is {value}; allowed: {allowed}"
                )


def with_section_saving(
    network: RailNetwork, origin: str, destination: str, saving_min: float
) -> RailNetwork:
    """A copy of ``network`` whose quickest ``origin``-``destination`` route is faster.

    Every edge on the route is scaled by the same factor, so the route's in-vehicle time
    drops by exactly ``saving_min`` and each stop keeps its share. Other routes over these
    edges (both directions, and trips that continue beyond the section) gain too; no time
    gets longer. The saving must be smaller than the route's in-vehicle time.
    """
    route = rail_route(network, origin, destination)
    if not 0.0 <= saving_min < route.in_vehicle_min:
        raise ValueError(
            f"saving of {saving_min} min on {origin}-{destination}: allowed 0 to "
            f"{route.in_vehicle_min:.1f} min (the route's in-vehicle time), exclusive"
        )
    factor = 1.0 - saving_min / route.in_vehicle_min
    edge_min = network.edge_min.copy()
    for k, line in enumerate(route.lines):
        a = network.station_index(route.stations[k])
        b = network.station_index(route.stations[k + 1])
        edge = np.flatnonzero(
            (
                ((network.edge_from == a) & (network.edge_to == b))
                | ((network.edge_from == b) & (network.edge_to == a))
            )
            & (network.edge_line == network.lines.index(line))
        )
        edge_min[edge[0]] *= factor
    return replace(network, edge_min=edge_min)


def with_projects(network: RailNetwork, projects: list[RailProject]) -> RailNetwork:
    """The network with the given projects opened (effects in the order of RailProject)."""
    for project in projects:
        edges = {}
        for pair, minutes in project.edge_time_min.items():
            a, _, b = pair.partition("|")
            edges[(a, b)] = minutes
        network = with_edge_times(
            network, edges, project.line or None, project.through_running_with
        )
        for pair, saving in project.section_saving_min.items():
            a, _, b = pair.partition("|")
            network = with_section_saving(network, a, b, saving)
        departures = network.station_departures_24h.copy()
        factor = np.ones(network.n_stations)
        for line, line_factor in project.line_departures_factor.items():
            if line not in network.lines:
                raise KeyError(f"rail network has no line '{line}'")
            on_line = np.array([line in names for names in network.station_lines])
            factor[on_line] = np.maximum(factor[on_line], line_factor)
        departures *= factor
        for station, extra in project.extra_departures_24h.items():
            departures[network.station_index(station)] += extra
        network = replace(network, station_departures_24h=departures)
    return network
