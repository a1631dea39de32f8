"""Turf cutting at scale: 100,000 doors (synthetic points along streets inside irregular,
precinct-shaped polygons) cut precinct by precinct into turfs of about 50 doors, each routed
into a walk; then OR-Tools' routing solver routes a sample of the same turfs in the same run.

Figures:

- turf.cut_seconds       projection, bisection and routing of every door (budget 10 s)
- turf.turfs             how many turfs were cut
- turf.size_spread_pct   the largest deviation of a turf's size from the target, in percent
                         (goal within 10)
- turf.within_10pct      share of turfs within ±10% of the target, in percent
- turf.route_ms_p50/p95  routing one turf
- turf.length_ratio_mean / _p95 / _max  our walk length over OR-Tools' on the same turf
                         (goal at most 1.10), anchor: OR-Tools with guided local search

`--people` sets the number of doors; `--iterations` the number of turfs given to OR-Tools.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import NDArray

from bench import emit, percentile

DEFAULT_DOORS = 100_000
TARGET = 50
TIME_BUDGET_S = 10.0
ORTOOLS_SECONDS_PER_TURF = 0.3


def _precincts(rng: np.random.Generator, count: int) -> list[object]:
    """Irregular precinct shapes: Voronoi cells of scattered seeds over a 12 x 9 km city,
    with their edges pushed in and out so no two look alike."""
    from shapely.geometry import MultiPoint, Polygon, box
    from shapely.ops import voronoi_diagram

    city = box(0, 0, 12_000, 9_000)
    seeds = MultiPoint(rng.random((count, 2)) * [12_000, 9_000])
    cells = [cell.intersection(city) for cell in voronoi_diagram(seeds, envelope=city).geoms]
    shaped = []
    for cell in cells:
        ring = np.asarray(cell.exterior.coords)[:-1]
        centre = ring.mean(axis=0)
        dense = []
        for a, b in zip(ring, np.roll(ring, -1, axis=0), strict=True):
            for t in np.linspace(0, 1, 6, endpoint=False):
                point = a + (b - a) * t
                dense.append(centre + (point - centre) * rng.uniform(0.85, 1.0))
        polygon = Polygon(dense).buffer(0)
        if polygon.geom_type == "MultiPolygon":
            polygon = max(polygon.geoms, key=lambda g: g.area)
        shaped.append(polygon)
    return shaped


def _doors(rng: np.random.Generator, polygon: object, n: int) -> NDArray[np.float64]:
    """`n` doors inside the polygon, along an 80 m street grid (a door every few metres on
    either side of a street), as real doors are."""
    from shapely import contains_xy

    minx, miny, maxx, maxy = polygon.bounds
    found: list[NDArray[np.float64]] = []
    have = 0
    while have < n:
        k = max(2 * (n - have), 64)
        along = rng.random(k)
        street = rng.integers(0, 1_000_000, k)
        horizontal = rng.random(k) < 0.5
        x = np.where(
            horizontal, minx + along * (maxx - minx), (street % 200) * 80.0 + rng.normal(0, 6, k)
        )
        y = np.where(
            horizontal, (street % 200) * 80.0 + rng.normal(0, 6, k), miny + along * (maxy - miny)
        )
        inside = contains_xy(polygon, x, y)
        pts = np.column_stack([x[inside], y[inside]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


def _ortools_length(points: NDArray[np.float64], seconds: float) -> float:
    """OR-Tools' open walk through the points: a dummy depot at zero distance from every
    door, guided local search for `seconds`."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

    from leaven.canvass import cutting

    n = len(points)
    dist = np.zeros((n + 1, n + 1), dtype=np.int64)
    dist[1:, 1:] = np.rint(cutting.distance_matrix(points) * 100).astype(np.int64)
    matrix = dist.tolist()
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(matrix[manager.IndexToNode(i)][manager.IndexToNode(j)])

    callback = routing.RegisterTransitCallback(cost)
    routing.SetArcCostEvaluatorOfAllVehicles(callback)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = routing.SolveWithParameters(params)
    order = []
    index = routing.Start(0)
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        if node:
            order.append(node - 1)
        index = solution.Value(routing.NextVar(index))
    return cutting.path_length(points, order)


def run(*, people: int = DEFAULT_DOORS, seed: int = 1, iterations: int = 100) -> None:
    from leaven.canvass import cutting

    rng = np.random.default_rng(seed)
    doors = people
    precinct_count = max(1, round(doors / 1250))
    polygons = _precincts(rng, precinct_count)
    weights = np.array([p.area for p in polygons])
    counts = np.floor(weights / weights.sum() * doors).astype(int)
    counts[: doors - counts.sum()] += 1
    # Doors as latitude/longitude around Chicago, as the service receives them.
    origin_lat, origin_lon = 41.85, -87.66
    metres_per_deg_lat = 111_195.0
    metres_per_deg_lon = metres_per_deg_lat * math.cos(math.radians(origin_lat))
    precinct_doors = []
    for polygon, n in zip(polygons, counts, strict=True):
        if n <= 0:
            continue
        xy = _doors(rng, polygon, int(n))
        lat = origin_lat + xy[:, 1] / metres_per_deg_lat
        lon = origin_lon + xy[:, 0] / metres_per_deg_lon
        precinct_doors.append(list(zip(lat.tolist(), lon.tolist(), strict=True)))

    turfs: list[tuple[NDArray[np.float64], list[int]]] = []
    route_ms: list[float] = []
    started = time.perf_counter()
    for lat_lon in precinct_doors:
        points = cutting.project(lat_lon)
        for group in cutting.bisect(points, cutting.turf_count(len(points), TARGET)):
            turf_points = points[group]
            t0 = time.perf_counter()
            order = cutting.route(turf_points)
            route_ms.append((time.perf_counter() - t0) * 1000)
            turfs.append((turf_points, order))
    seconds = time.perf_counter() - started

    sizes = np.array([len(order) for _points, order in turfs])
    deviation = np.abs(sizes - TARGET) / TARGET * 100
    emit("turf.doors", float(sizes.sum()), "doors", precincts=len(precinct_doors))
    emit("turf.cut_seconds", seconds, "s", budget=TIME_BUDGET_S)
    emit("turf.turfs", float(len(turfs)), "turfs")
    emit(
        "turf.size_spread_pct",
        float(deviation.max()),
        "%",
        budget=10.0,
        min_size=int(sizes.min()),
        max_size=int(sizes.max()),
    )
    emit("turf.within_10pct", float((deviation <= 10).mean() * 100), "%")
    emit("turf.route_ms_p50", percentile(route_ms, 50), "ms")
    emit("turf.route_ms_p95", percentile(route_ms, 95), "ms")

    sample_rng = np.random.default_rng(seed + 1)
    picks = sample_rng.choice(len(turfs), size=min(iterations, len(turfs)), replace=False)
    ratios = []
    ours_total = theirs_total = 0.0
    for pick in picks:
        points, order = turfs[int(pick)]
        ours = cutting.path_length(points, order)
        theirs = _ortools_length(points, ORTOOLS_SECONDS_PER_TURF)
        ours_total += ours
        theirs_total += theirs
        ratios.append(ours / theirs if theirs > 0 else 1.0)
    emit(
        "turf.length_ratio_mean",
        float(np.mean(ratios)),
        "ratio",
        budget=1.10,
        anchor="ortools_gls",
        turfs=len(ratios),
        ours_m=round(ours_total / len(ratios), 1),
        ortools_m=round(theirs_total / len(ratios), 1),
    )
    emit(
        "turf.length_ratio_p95", percentile(ratios, 95), "ratio", budget=1.10, anchor="ortools_gls"
    )
    emit("turf.length_ratio_max", float(max(ratios)), "ratio", budget=1.10, anchor="ortools_gls")
