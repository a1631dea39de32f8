"""Turf cutting and routing on plain points: balanced sizes, every door once, short walks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from leaven.canvass import cutting


def test_bisect_puts_every_door_in_exactly_one_turf_with_balanced_sizes():
    """1,003 doors into turfs of about 50: 20 turfs whose sizes differ by at most one."""
    rng = np.random.default_rng(7)
    points = rng.random((1003, 2)) * 1000
    groups = cutting.bisect(points, cutting.turf_count(len(points), 50))
    assert len(groups) == 20
    sizes = [len(g) for g in groups]
    assert max(sizes) - min(sizes) <= 1
    every = np.concatenate(groups)
    assert sorted(every.tolist()) == list(range(1003))


def test_turfs_do_not_reach_across_each_other():
    """Each turf's bounding box holds no door of another turf (cuts are straight lines)."""
    rng = np.random.default_rng(3)
    points = rng.random((400, 2)) * 1000
    groups = cutting.bisect(points, 8)
    owner = np.empty(len(points), dtype=int)
    for n, group in enumerate(groups):
        owner[group] = n
    for n, group in enumerate(groups):
        low, high = points[group].min(axis=0), points[group].max(axis=0)
        inside = np.all((points > low) & (points < high), axis=1)
        assert set(owner[inside].tolist()) <= {n}


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=1000))
def test_route_visits_each_door_once(n, seed):
    """Any number of doors: the route is a permutation of them."""
    points = np.random.default_rng(seed).random((n, 2)) * 500
    order = cutting.route(points)
    assert sorted(order) == list(range(n))


def test_route_along_a_street_walks_it_end_to_end():
    """Doors on one straight street, shuffled: the walk goes from one end to the other."""
    xs = np.arange(30, dtype=float) * 10
    rng = np.random.default_rng(1)
    shuffled = rng.permutation(30)
    points = np.column_stack([xs[shuffled], np.zeros(30)])
    order = cutting.route(points)
    assert cutting.path_length(points, order) == 290.0


def test_route_is_much_shorter_than_a_random_order():
    points = np.random.default_rng(5).random((50, 2)) * 500
    order = cutting.route(points)
    assert cutting.path_length(points, order) < 0.5 * cutting.path_length(points, range(50))


def test_project_keeps_distances_in_metres():
    """0.001 degrees of latitude is about 111 m."""
    points = cutting.project([(41.85, -87.66), (41.851, -87.66)])
    assert abs(float(np.linalg.norm(points[1] - points[0])) - 111.2) < 0.5
