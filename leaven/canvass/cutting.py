"""Turf cutting and walking routes, in plain Python and numpy (no database).

Cutting is recursive bisection: split the doors along the longer side of their bounding box
at the quantile that gives each half its share of turfs, until each part is one turf. Every
cut is a straight line, so each turf lies in its own convex cell and never reaches across
another turf's doors, and sizes differ by at most one door.

Routing is nearest neighbour, then 2-opt and Or-opt (moving runs of up to three doors), on
an open walk (a canvasser
starts at one door and ends at another): a dummy node at zero distance from every door turns
the open walk into a cycle so 2-opt needs no special cases at the ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

EARTH_RADIUS_M = 6_371_000.0

Points = NDArray[np.float64]


def project(lat_lon: Sequence[tuple[float, float]]) -> Points:
    """Latitude/longitude pairs to metres on a local flat plane (equirectangular around the
    points' mean latitude: within a city the error is far below a door's width)."""
    if not lat_lon:
        return np.zeros((0, 2))
    array = np.asarray(lat_lon, dtype=np.float64)
    mean_lat = math.radians(float(array[:, 0].mean()))
    x = np.radians(array[:, 1]) * math.cos(mean_lat) * EARTH_RADIUS_M
    y = np.radians(array[:, 0]) * EARTH_RADIUS_M
    return np.column_stack([x, y])


def turf_count(doors: int, target: int) -> int:
    """How many turfs of about `target` doors to cut `doors` into."""
    if doors <= 0:
        return 0
    return max(1, round(doors / max(1, target)))


def bisect(points: Points, turfs: int) -> list[NDArray[np.intp]]:
    """Split the points into `turfs` groups of equal size (within one) by recursive
    bisection. Returns index arrays into `points`; groups come out in spatial order."""
    if turfs <= 0 or len(points) == 0:
        return []
    groups: list[NDArray[np.intp]] = []
    stack: list[tuple[NDArray[np.intp], int]] = [(np.arange(len(points)), turfs)]
    while stack:
        indexes, k = stack.pop()
        if k == 1 or len(indexes) <= 1:
            groups.append(indexes)
            continue
        sub = points[indexes]
        spans = sub.max(axis=0) - sub.min(axis=0)
        axis = int(np.argmax(spans))
        left_turfs = k // 2
        split = round(len(indexes) * left_turfs / k)
        order = np.argsort(sub[:, axis], kind="stable")
        left, right = indexes[order[:split]], indexes[order[split:]]
        # Pushed right first so the left half comes out first.
        stack.append((right, k - left_turfs))
        stack.append((left, left_turfs))
    return groups


def distance_matrix(points: Points) -> NDArray[np.float64]:
    diff = points[:, None, :] - points[None, :, :]
    result: NDArray[np.float64] = np.sqrt((diff**2).sum(axis=2))
    return result


def path_length(points: Points, order: Sequence[int]) -> float:
    if len(order) < 2:
        return 0.0
    ordered = points[np.asarray(order)]
    return float(np.sqrt(((ordered[1:] - ordered[:-1]) ** 2).sum(axis=1)).sum())


def _nearest_neighbour(dist: NDArray[np.float64], start: int) -> list[int]:
    n = len(dist)
    unvisited = np.ones(n, dtype=bool)
    tour = [start]
    unvisited[start] = False
    current = start
    for _ in range(n - 1):
        row = np.where(unvisited, dist[current], np.inf)
        current = int(np.argmin(row))
        tour.append(current)
        unvisited[current] = False
    return tour


def _two_opt(dist: NDArray[np.float64], tour: list[int]) -> list[int]:
    """Improve a closed tour by the best segment reversal, while one shortens it. All
    candidate reversals are scored at once as a matrix."""
    t = np.asarray(tour, dtype=np.intp)
    m = len(t)
    if m < 4:
        return [int(x) for x in t]
    valid = np.triu(np.ones((m, m), dtype=bool), k=2)
    valid[0, m - 1] = False
    for _ in range(10 * m):
        # Distances in tour order: dt[i, j] = d(t[i], t[j]); the next stops are one step on.
        dt = dist[np.ix_(t, t)]
        dn = np.roll(np.roll(dt, -1, axis=0), -1, axis=1)
        edge = dt[np.arange(m), (np.arange(m) + 1) % m]
        delta = dt + dn - edge[:, None] - edge[None, :]
        delta[~valid] = 0.0
        flat = int(np.argmin(delta))
        i, j = divmod(flat, m)
        if delta[i, j] >= -1e-9:
            break
        t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1].copy()
    return [int(x) for x in t]


def _or_opt(dist: NDArray[np.float64], tour: list[int]) -> list[int]:
    """Move the best run of one to three stops (either way round) to a better edge of the
    closed tour, while one such move shortens it."""
    t = list(tour)
    m = len(t)
    if m < 6:
        return t
    for _ in range(10 * m):
        arr = np.asarray(t, dtype=np.intp)
        nxt = np.roll(arr, -1)
        edge = dist[arr, nxt]
        best_gain, best_move = 1e-9, None
        positions = np.arange(m)
        for length in (1, 2, 3):
            starts = np.arange(1, m - length)
            prev, first = arr[starts - 1], arr[starts]
            last, after = arr[starts + length - 1], arr[starts + length]
            gain = dist[prev, first] + dist[last, after] - dist[prev, after]
            # Edge k joins positions k and k+1; it must not touch the run.
            touching = (positions[None, :] >= (starts - 1)[:, None]) & (
                positions[None, :] <= (starts + length - 1)[:, None]
            )
            forward = dist[arr[None, :], first[:, None]] + dist[last[:, None], nxt[None, :]]
            backward = dist[arr[None, :], last[:, None]] + dist[first[:, None], nxt[None, :]]
            forward = forward - edge[None, :]
            backward = backward - edge[None, :]
            for reverse, cost in ((False, forward), (True, backward)):
                improvement = np.where(touching, -np.inf, gain[:, None] - cost)
                flat = int(np.argmax(improvement))
                row, k = divmod(flat, m)
                if improvement[row, k] > best_gain:
                    best_gain = float(improvement[row, k])
                    best_move = (int(starts[row]), length, k, reverse)
        if best_move is None:
            break
        i, length, k, reverse = best_move
        run = t[i : i + length]
        if reverse:
            run = run[::-1]
        after_node = t[k]
        rest = t[:i] + t[i + length :]
        at = rest.index(after_node)
        t = rest[: at + 1] + run + rest[at + 1 :]
    return t


def route(points: Points, *, starts: int = 1) -> list[int]:
    """A short open walk through every point: the visiting order as indexes into `points`.
    Each point appears exactly once."""
    n = len(points)
    if n <= 2:
        return list(range(n))
    dist = np.zeros((n + 1, n + 1))
    dist[:n, :n] = distance_matrix(points)
    dummy = n
    best: list[int] = []
    best_length = math.inf
    candidates = {dummy}
    # Extra starts: the doors at the ends of the longer side of the bounding box.
    axis = int(np.argmax(points.max(axis=0) - points.min(axis=0)))
    for index in (int(np.argmin(points[:, axis])), int(np.argmax(points[:, axis]))):
        if len(candidates) >= starts:
            break
        candidates.add(index)
    for start in sorted(candidates):
        tour = _nearest_neighbour(dist, start)
        tour = _two_opt(dist, tour)
        tour = _or_opt(dist, tour)
        tour = _two_opt(dist, tour)
        length = sum(dist[tour[k], tour[(k + 1) % len(tour)]] for k in range(len(tour)))
        if length < best_length:
            best, best_length = tour, length
    cut = best.index(dummy)
    walk = best[cut + 1 :] + best[:cut]
    return walk
