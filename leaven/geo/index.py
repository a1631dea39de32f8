"""Point-in-polygon over every jurisdiction of a kind, with a shapely 2 STRtree.

The tree is built once per process and kind, and rebuilt when the jurisdictions of that kind
change: each use checks a cheap version (count, latest change, highest id) first.

A point on a boundary shared by two precincts (or on a vertex shared by four) is covered by
all of them; it lands in exactly one, the one with the lowest code, so that every process
and every run gives the same answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from django.db.models import Count, Max

from leaven.geo.models import Jurisdiction

Point = tuple[float | None, float | None]

_lock = threading.Lock()
_indexes: dict[str, PrecinctIndex] = {}


def _version(kind: str) -> tuple[int, str, int]:
    row = (
        Jurisdiction.objects.filter(kind=kind)
        .exclude(boundary="")
        .aggregate(n=Count("id"), latest=Max("modified_at"), top=Max("id"))
    )
    return (int(row["n"] or 0), str(row["latest"] or ""), int(row["top"] or 0))


class PrecinctIndex:
    """An STRtree over the boundaries of one kind of jurisdiction (precincts by default).

    Use :meth:`for_kind` to get the current index for a kind; it is shared by the process and
    rebuilt only when the jurisdictions of that kind changed.
    """

    def __init__(
        self,
        *,
        kind: str,
        version: tuple[int, str, int],
        codes: Sequence[str],
        geometries: Sequence[Any],
        parents: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.version = version
        self.codes: list[str] = list(codes)
        self.parents: dict[str, str] = dict(parents or {})
        self._geoms = np.asarray(geometries, dtype=object)
        self._tree = shapely.STRtree(self._geoms) if len(self._geoms) else None
        # Rank of each geometry's code in sorted order: the lowest rank wins a tie.
        order = sorted(range(len(self.codes)), key=lambda i: self.codes[i])
        self._rank = np.empty(len(self.codes), dtype=np.int64)
        self._rank[order] = np.arange(len(self.codes), dtype=np.int64)
        self._by_rank = [self.codes[i] for i in order]

    @classmethod
    def build(cls, kind: str = Jurisdiction.Kind.PRECINCT) -> PrecinctIndex:
        version = _version(kind)
        rows = list(
            Jurisdiction.objects.filter(kind=kind)
            .exclude(boundary="")
            .values_list("code", "boundary", "parent__kind", "parent__code")
        )
        codes = [row[0] for row in rows]
        geometries = shapely.from_geojson([row[1] for row in rows]) if rows else []
        if len(geometries):
            shapely.prepare(geometries)
        parents = {
            code: parent_code
            for code, _b, parent_kind, parent_code in rows
            if parent_kind == Jurisdiction.Kind.WARD and parent_code
        }
        return cls(kind=kind, version=version, codes=codes, geometries=geometries, parents=parents)

    @classmethod
    def for_kind(cls, kind: str = Jurisdiction.Kind.PRECINCT) -> PrecinctIndex:
        """The process's index for this kind, rebuilt if the jurisdictions changed."""
        version = _version(kind)
        current = _indexes.get(kind)
        if current is not None and current.version == version:
            return current
        with _lock:
            current = _indexes.get(kind)
            if current is None or current.version != version:
                current = cls.build(kind)
                _indexes[kind] = current
        return current

    def __len__(self) -> int:
        return len(self.codes)

    def locate(self, lat: float | None, lon: float | None) -> str | None:
        """The code of the one jurisdiction that covers the point, or None."""
        return self.locate_many([(lat, lon)])[0]

    def locate_many(self, points: Iterable[Point]) -> list[str | None]:
        """The code for each (lat, lon) point, in order; None where no boundary covers it or
        the point has no coordinates. Vectorised: one tree query for all points."""
        pts = list(points)
        result: list[str | None] = [None] * len(pts)
        if not pts or self._tree is None:
            return result
        lats = np.array([np.nan if p[0] is None else p[0] for p in pts], dtype=float)
        lons = np.array([np.nan if p[1] is None else p[1] for p in pts], dtype=float)
        known = np.flatnonzero(~(np.isnan(lats) | np.isnan(lons)))
        if not len(known):
            return result
        geoms = shapely.points(lons[known], lats[known])
        hits = self._tree.query(geoms, predicate="intersects")
        if not hits.shape[1]:
            return result
        missing = len(self.codes)
        best = np.full(len(known), missing, dtype=np.int64)
        np.minimum.at(best, hits[0], self._rank[hits[1]])
        for position, rank in zip(known.tolist(), best.tolist(), strict=True):
            if rank != missing:
                result[position] = self._by_rank[rank]
        return result


def reset() -> None:
    """Forget every built index (the next use rebuilds)."""
    with _lock:
        _indexes.clear()
