"""Writes for geography: boundary imports, household assignment to precincts and wards, and
precinct election results. Each takes the acting user and leaves one audit event."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import shapely
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit
from leaven.geo.index import PrecinctIndex
from leaven.geo.models import ElectionResult, Jurisdiction
from leaven.people.models import Household

BATCH_SIZE = 2000
POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass
class ImportSummary:
    """What a boundary import did. `repaired` and `rejected` hold one message per feature."""

    created: int = 0
    updated: int = 0
    repaired: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


@dataclass
class ResultsSummary:
    """What an election results import did."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    precincts: int = 0


def _require_manage(actor: Any, as_operator: bool) -> None:
    if as_operator:
        return
    if not access.can_anywhere(actor, permissions.GEO_MANAGE):
        raise ValidationError(_("You cannot import geography."))


# --- Reading GeoJSON and TopoJSON -------------------------------------------------------------


def _load_json(data: bytes) -> Any:
    if not data or not data.strip():
        raise ValidationError(_("The file is empty."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text, so it is not GeoJSON.")) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("The file is not valid JSON (line %(line)s, column %(column)s).")
            % {"line": exc.lineno, "column": exc.colno}
        ) from None


def _topology_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Every arc as absolute coordinates: undo the delta encoding and apply the transform
    when the topology is quantized."""
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    raw_arcs = topology.get("arcs")
    if not isinstance(raw_arcs, list):
        raise ValidationError(_("The TopoJSON file has no arcs."))
    try:
        if transform:
            sx, sy = (float(v) for v in transform["scale"])
            tx, ty = (float(v) for v in transform["translate"])
            for arc in raw_arcs:
                x = y = 0.0
                points = []
                for position in arc:
                    x += float(position[0])
                    y += float(position[1])
                    points.append((x * sx + tx, y * sy + ty))
                arcs.append(points)
        else:
            for arc in raw_arcs:
                arcs.append([(float(p[0]), float(p[1])) for p in arc])
    except (KeyError, TypeError, ValueError, IndexError):
        raise ValidationError(_("The TopoJSON file's arcs or transform are malformed.")) from None
    return arcs


def _topology_ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[Any]:
    """Stitch arcs into one ring. A negative index ~i is arc i reversed; each arc after the
    first starts where the previous one ended, so its first point is dropped."""
    ring: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[~index][::-1] if index < 0 else arcs[index]
        ring.extend(arc[1:] if ring else arc)
    return [list(point) for point in ring]


def _topology_geometry(
    arcs: list[list[tuple[float, float]]], geometry: dict[str, Any]
) -> dict[str, Any] | None:
    kind = geometry.get("type")
    try:
        if kind == "Polygon":
            rings = [_topology_ring(arcs, ring) for ring in geometry.get("arcs") or []]
            return {"type": "Polygon", "coordinates": rings}
        if kind == "MultiPolygon":
            polygons = [
                [_topology_ring(arcs, ring) for ring in polygon]
                for polygon in geometry.get("arcs") or []
            ]
            return {"type": "MultiPolygon", "coordinates": polygons}
    except (IndexError, TypeError):
        raise ValidationError(_("The TopoJSON file refers to an arc it does not have.")) from None
    if kind is None:
        return None
    return {"type": kind, "coordinates": []}


def _topology_features(topology: dict[str, Any]) -> list[dict[str, Any]]:
    """The features of every object in a Topology, in file order."""
    objects = topology.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise ValidationError(_("The TopoJSON file has no objects."))
    arcs = _topology_arcs(topology)
    features: list[dict[str, Any]] = []

    def walk(obj: dict[str, Any]) -> None:
        if obj.get("type") == "GeometryCollection":
            for child in obj.get("geometries") or []:
                if isinstance(child, dict):
                    walk(child)
            return
        features.append(
            {
                "type": "Feature",
                "properties": obj.get("properties") or {},
                "geometry": _topology_geometry(arcs, obj),
            }
        )

    for obj in objects.values():
        if isinstance(obj, dict):
            walk(obj)
    return features


def _features(data: bytes) -> list[dict[str, Any]]:
    document = _load_json(data)
    if not isinstance(document, dict):
        raise ValidationError(_("The file is JSON but not a GeoJSON FeatureCollection."))
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise ValidationError(_("The FeatureCollection has no list of features."))
        return [f for f in features if isinstance(f, dict)]
    if kind == "Topology":
        return _topology_features(document)
    if kind == "Feature":
        return [document]
    raise ValidationError(
        _(
            "The file is JSON but not a GeoJSON FeatureCollection or a TopoJSON Topology "
            "(its type is “%(type)s”)."
        )
        % {"type": str(kind)[:40]}
    )


def _code(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _clean_geometry(geometry: Any) -> tuple[BaseGeometry | None, str, str]:
    """(polygonal geometry, repair note, rejection reason): exactly one of the geometry and
    the reason is set."""
    if not isinstance(geometry, dict):
        return None, "", _("it has no geometry")
    if geometry.get("type") not in POLYGONAL:
        return (
            None,
            "",
            _("its geometry is a %(type)s, not a polygon")
            % {"type": str(geometry.get("type"))[:40]},
        )
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as e:
        return None, "", _("its coordinates are malformed (%(error)s)") % {"error": str(e)[:120]}
    if geom.is_empty:
        return None, "", _("its geometry is empty")
    note = ""
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        repaired = make_valid(geom)
        parts = [
            part
            for part in shapely.get_parts(repaired)
            if part.geom_type in POLYGONAL and not part.is_empty
        ]
        polygonal = shapely.union_all(parts) if parts else None
        if polygonal is None or polygonal.is_empty or polygonal.area <= 0:
            return (
                None,
                "",
                _("its boundary is invalid (%(reason)s) and cannot be repaired into an area")
                % {"reason": reason},
            )
        geom, note = polygonal, reason
    if geom.area <= 0:
        return None, "", _("its boundary encloses no area")
    min_x, min_y, max_x, max_y = geom.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        return (
            None,
            "",
            _(
                "its coordinates are not longitude and latitude (WGS 84); "
                "reproject the file to EPSG:4326"
            ),
        )
    return geom, note, ""


@transaction.atomic
def jurisdictions_import_geojson(
    *,
    actor: Any,
    data: bytes,
    kind: str,
    code_field: str,
    name_field: str,
    parent: Jurisdiction | None = None,
    as_operator: bool = False,
) -> ImportSummary:
    """Create or update jurisdictions of one kind from a GeoJSON FeatureCollection or a
    TopoJSON Topology, matched on (kind, code).

    Invalid rings (self-intersections, bow-ties) are repaired when the repair keeps an area,
    and reported; features that cannot be repaired, or have no code, are rejected one by one
    with the reason. A file that is not JSON, not a FeatureCollection or Topology, or whose
    features lack the code field stores nothing. Features sharing a code are joined into one
    boundary. Operators (the command line) pass `as_operator`.
    """
    _require_manage(actor, as_operator)
    if kind not in Jurisdiction.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of jurisdiction.")})
    code_field, name_field = code_field.strip(), name_field.strip()
    if not code_field:
        raise ValidationError({"code_field": _("Name the property that holds each code.")})
    features = _features(data)
    if not features:
        raise ValidationError(_("The file has no features."))
    available: set[str] = set()
    for feature in features:
        properties = feature.get("properties")
        if isinstance(properties, dict):
            available.update(str(key) for key in properties)
    if code_field not in available:
        raise ValidationError(
            {
                "code_field": _(
                    "No feature has a property “%(field)s”. The properties are: %(fields)s."
                )
                % {
                    "field": code_field,
                    "fields": ", ".join(sorted(available)[:30]) or _("none"),
                }
            }
        )

    summary = ImportSummary()
    found: dict[str, tuple[str, list[BaseGeometry]]] = {}
    for number, feature in enumerate(features, start=1):
        raw_props = feature.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        code = _code(props.get(code_field))
        label = (
            _("Feature %(number)s (code %(code)s)") % {"number": number, "code": code}
            if code
            else _("Feature %(number)s") % {"number": number}
        )
        if not code:
            summary.rejected.append(
                _("%(feature)s: it has no “%(field)s”.") % {"feature": label, "field": code_field}
            )
            continue
        if len(code) > 60:
            summary.rejected.append(
                _("%(feature)s: the code is longer than 60 characters.") % {"feature": label}
            )
            continue
        geom, note, reason = _clean_geometry(feature.get("geometry"))
        if geom is None:
            summary.rejected.append(
                _("%(feature)s: rejected, %(reason)s.") % {"feature": label, "reason": reason}
            )
            continue
        if note:
            summary.repaired.append(
                _("%(feature)s: repaired (%(reason)s).") % {"feature": label, "reason": note}
            )
        name = _code(props.get(name_field)) if name_field else ""
        if code in found:
            found[code][1].append(geom)
        else:
            found[code] = (name or code, [geom])

    now = timezone.now()
    existing = {j.code: j for j in Jurisdiction.objects.filter(kind=kind, code__in=list(found))}
    to_create: list[Jurisdiction] = []
    to_update: list[Jurisdiction] = []
    for code, (name, geoms) in found.items():
        geom = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        values = {
            "name": name[:200],
            "boundary": shapely.to_geojson(geom),
            "min_lat": min_lat,
            "min_lon": min_lon,
            "max_lat": max_lat,
            "max_lon": max_lon,
            "modified_at": now,
        }
        jurisdiction = existing.get(code)
        if jurisdiction is None:
            to_create.append(Jurisdiction(kind=kind, code=code, parent=parent, **values))
        else:
            for key, value in values.items():
                setattr(jurisdiction, key, value)
            if parent is not None:
                jurisdiction.parent = parent
            to_update.append(jurisdiction)
        summary.codes.append(code)
    Jurisdiction.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Jurisdiction.objects.bulk_update(
            to_update,
            [
                "name",
                "boundary",
                "min_lat",
                "min_lon",
                "max_lat",
                "max_lon",
                "modified_at",
                "parent",
            ],
            batch_size=500,
        )
    summary.created, summary.updated = len(to_create), len(to_update)
    audit_record(
        actor=actor,
        verb="geo.boundaries_imported",
        object_type="jurisdiction",
        detail={
            "kind": kind,
            "created": summary.created,
            "updated": summary.updated,
            "repaired": len(summary.repaired),
            "rejected": len(summary.rejected),
            "parent_id": parent.pk if parent else None,
        },
    )
    return summary


# --- Households in precincts and wards ----------------------------------------------------------


def household_codes_for_points(
    points: Sequence[tuple[float | None, float | None]],
) -> list[tuple[str, str]]:
    """(precinct code, ward code) for each (lat, lon), "" where none is known. The ward is
    the ward boundary covering the point, else the ward the precinct belongs to."""
    precincts = PrecinctIndex.for_kind(Jurisdiction.Kind.PRECINCT)
    wards = PrecinctIndex.for_kind(Jurisdiction.Kind.WARD)
    precinct_codes = precincts.locate_many(points)
    ward_codes = wards.locate_many(points) if len(wards) else [None] * len(points)
    result = []
    for precinct, ward in zip(precinct_codes, ward_codes, strict=True):
        if ward is None and precinct is not None:
            ward = precincts.parents.get(precinct)
        result.append((precinct or "", ward or ""))
    return result


def household_codes_for_point(lat: float | None, lon: float | None) -> tuple[str, str]:
    """(precinct code, ward code) for one point, "" where none is known."""
    return household_codes_for_points([(lat, lon)])[0]


@transaction.atomic
def households_assign_jurisdictions(
    *,
    actor: Any,
    household_ids: list[int] | None = None,
    owner_unit: OrgUnit | None = None,
    as_operator: bool = False,
) -> int:
    """Fill each household's precinct and ward codes by point-in-polygon, for households with
    coordinates that the actor may edit (optionally only these ids, or only this unit and
    the units below it). Where no boundary covers a household, its existing code (from a
    voter file, say) is kept. Returns how many households changed; one audit event per run."""
    households = Household.objects.filter(latitude__isnull=False, longitude__isnull=False)
    if not as_operator:
        unit_ids = access.unit_ids_in_scope(actor, permissions.PEOPLE_EDIT)
        if not unit_ids:
            raise ValidationError(_("You cannot change these households."))
        households = households.filter(owner_unit_id__in=unit_ids)
    if owner_unit is not None:
        if not as_operator and not access.can(actor, permissions.PEOPLE_EDIT, owner_unit):
            raise ValidationError(_("You cannot change these households."))
        households = households.filter(
            Q(owner_unit=owner_unit) | Q(owner_unit__path__startswith=owner_unit.path)
        )
    if household_ids is not None:
        households = households.filter(pk__in=household_ids)
    checked = changed = uncovered = 0
    now = timezone.now()
    last_id = 0
    while True:
        batch = list(
            households.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "latitude", "longitude", "precinct_code", "ward_code")[:BATCH_SIZE]
        )
        if not batch:
            break
        last_id = batch[-1][0]
        codes = household_codes_for_points([(row[1], row[2]) for row in batch])
        groups: dict[tuple[str, str], list[int]] = {}
        for (pk, _lat, _lon, old_precinct, old_ward), (precinct, ward) in zip(
            batch, codes, strict=True
        ):
            checked += 1
            if not precinct:
                uncovered += 1
            new = (precinct or old_precinct, ward or old_ward)
            if new != (old_precinct, old_ward):
                groups.setdefault(new, []).append(pk)
        for (precinct, ward), ids in groups.items():
            Household.objects.filter(pk__in=ids).update(
                precinct_code=precinct, ward_code=ward, modified_at=now
            )
            changed += len(ids)
    audit_record(
        actor=actor,
        verb="household.jurisdictions_assigned",
        object_type="household",
        unit=owner_unit,
        detail={"checked": checked, "changed": changed, "uncovered": uncovered},
    )
    return changed


# --- Election results ---------------------------------------------------------------------------

RESULT_COLUMNS = ("precinct", "contest", "choice", "votes")
MAX_REPORTED = 200


def _parse_votes(value: str) -> int | None:
    cleaned = value.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit():
        return None
    return int(cleaned)


@transaction.atomic
def election_results_import_csv(
    *,
    actor: Any,
    data: bytes,
    election: str,
    election_date: date | None = None,
    as_operator: bool = False,
) -> ResultsSummary:
    """Votes per precinct, contest and choice from a CSV with the columns precinct, contest,
    choice and votes (in any order, any case). Every problem is reported by row, and if there
    is any, nothing is written. A second import of the same election updates the votes."""
    _require_manage(actor, as_operator)
    election = election.strip()
    if not election:
        raise ValidationError({"election": _("Name the election.")})
    if not data or not data.strip():
        raise ValidationError(_("The file is empty."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text; save it as CSV UTF-8.")) from None
    if "\x00" in text:
        raise ValidationError(_("The file is not a CSV file."))
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    missing = [column for column in RESULT_COLUMNS if column not in header]
    if missing:
        raise ValidationError(
            _("The file lacks the columns: %(columns)s. It needs precinct, contest, choice, votes.")
            % {"columns": ", ".join(missing)}
        )
    position = {column: header.index(column) for column in RESULT_COLUMNS}
    precincts = dict(
        Jurisdiction.objects.filter(kind=Jurisdiction.Kind.PRECINCT).values_list("code", "pk")
    )
    errors: list[str] = []
    rows: dict[tuple[int, str, str], tuple[int, int]] = {}
    try:
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) < len(header):
                errors.append(
                    _("Row %(row)s: it has %(found)s columns, the header has %(expected)s.")
                    % {"row": number, "found": len(record), "expected": len(header)}
                )
                continue
            code = record[position["precinct"]].strip()
            contest = record[position["contest"]].strip()
            choice = record[position["choice"]].strip()
            votes_text = record[position["votes"]]
            if code not in precincts:
                errors.append(
                    _("Row %(row)s: unknown precinct “%(code)s”.")
                    % {"row": number, "code": code[:60]}
                )
                continue
            if not contest or not choice:
                errors.append(_("Row %(row)s: the contest or choice is empty.") % {"row": number})
                continue
            if len(contest) > 200 or len(choice) > 200:
                errors.append(
                    _("Row %(row)s: the contest or choice is longer than 200 characters.")
                    % {"row": number}
                )
                continue
            votes = _parse_votes(votes_text)
            if votes is None or votes > 2_000_000_000:
                errors.append(
                    _("Row %(row)s: “%(votes)s” is not a number of votes.")
                    % {"row": number, "votes": votes_text.strip()[:20]}
                )
                continue
            key = (precincts[code], contest, choice)
            if key in rows:
                errors.append(
                    _("Row %(row)s repeats row %(first)s (same precinct, contest and choice).")
                    % {"row": number, "first": rows[key][1]}
                )
                continue
            rows[key] = (votes, number)
    except csv.Error as exc:
        errors.append(_("The file is not valid CSV: %(error)s.") % {"error": str(exc)[:120]})
    if errors:
        if len(errors) > MAX_REPORTED:
            more = len(errors) - MAX_REPORTED
            errors = errors[:MAX_REPORTED] + [_("And %(count)s more problems.") % {"count": more}]
        raise ValidationError(errors)
    if not rows:
        raise ValidationError(_("The file has no results."))
    existing = {
        (r.precinct_id, r.contest, r.choice): r
        for r in ElectionResult.objects.filter(
            election=election, precinct_id__in={key[0] for key in rows}
        )
    }
    to_create: list[ElectionResult] = []
    to_update: list[ElectionResult] = []
    for (precinct_id, contest, choice), (votes, _number) in rows.items():
        result = existing.get((precinct_id, contest, choice))
        if result is None:
            to_create.append(
                ElectionResult(
                    precinct_id=precinct_id,
                    election=election[:200],
                    election_date=election_date,
                    contest=contest,
                    choice=choice,
                    votes=votes,
                )
            )
        else:
            result.votes = votes
            if election_date is not None:
                result.election_date = election_date
            to_update.append(result)
    ElectionResult.objects.bulk_create(to_create, batch_size=1000)
    if to_update:
        ElectionResult.objects.bulk_update(to_update, ["votes", "election_date"], batch_size=1000)
    summary = ResultsSummary(
        rows=len(rows),
        created=len(to_create),
        updated=len(to_update),
        precincts=len({key[0] for key in rows}),
    )
    audit_record(
        actor=actor,
        verb="geo.results_imported",
        object_type="electionresult",
        detail={
            "rows": summary.rows,
            "created": summary.created,
            "updated": summary.updated,
            "precincts": summary.precincts,
        },
    )
    return summary
