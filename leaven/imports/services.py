"""Writes for imports: upload, mapping, preview, run, cancel, resume, and saved mappings.

The run writes each batch in one transaction with multi-row statements on a raw connection
(COPY on PostgreSQL; no model instance per row) and records the last committed row, so a
cancelled or killed import resumes after its last committed batch and never writes a row
twice. A large import reads and checks its rows in a second process (leaven.imports.worker)
while this one writes.
"""

from __future__ import annotations

import csv
import datetime
import gc
import io
import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from itertools import chain
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.crypto import encrypt
from leaven.core.models import OrgUnit
from leaven.geo.models import VoterRecord
from leaven.imports import pipeline, worker
from leaven.imports.models import ColumnMapping, ImportJob, ImportReject
from leaven.people import normalize
from leaven.people.models import Email, Household, Person, PersonUnit, Phone

# Plain strings of the choices used in the bulk loops (enum attribute access is slow).
EMAIL_SUBSCRIBED = str(Email.Status.SUBSCRIBED.value)
EMAIL_UNSUBSCRIBED = str(Email.Status.UNSUBSCRIBED.value)
EMAIL_NO_CONSENT = str(Email.Status.NONE.value)
SMS_NONE = str(Phone.SMSStatus.NONE.value)
SMS_IN = str(Phone.SMSStatus.OPTED_IN.value)
SMS_OUT = str(Phone.SMSStatus.OPTED_OUT.value)
PHONE_OTHER = str(Phone.Kind.OTHER.value)
# A running import that has not committed a batch for this long has lost its worker.
STALLED_SECONDS = 300
BATCH_ROWS = int(os.environ.get("LEAVEN_IMPORT_BATCH_ROWS", "10000"))
# On SQLite, an import of at least this many rows (and at least half as many as the people
# already stored) is a bulk load: see _bulk_indexes_drop.
BULK_ROWS = int(os.environ.get("LEAVEN_IMPORT_BULK_ROWS", "50000"))
BULK_VENDORS = {"sqlite"}
# Rows per INSERT statement on SQLite (fewer when its limit on parameters is lower).
INSERT_ROWS = 200
# Values per IN (...) lookup: within SQLite's and PostgreSQL's limits on parameters.
LOOKUP_CHUNK = 2000
# SQLite pages (4 KB) of write-ahead log between checkpoints while an import runs.
WAL_CHECKPOINT_PAGES = 50_000


class _Operator:
    """The command line, run by whoever operates the server: it may import into any unit."""

    pk = None
    is_authenticated = False
    is_active = True

    def __str__(self) -> str:
        return "command line"


OPERATOR = _Operator()


def _require(actor: Any, unit: OrgUnit) -> None:
    if actor is OPERATOR:
        return
    if not access.can(actor, permissions.IMPORTS_RUN, unit):
        raise ValidationError(_("You cannot import into this unit."))


def _job_dir() -> Path:
    path = Path(settings.LEAVEN_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_upload(
    *, actor: Any, owner_unit: OrgUnit, file_name: str, stream: IO[bytes], size: int | None = None
) -> ImportJob:
    """Store an uploaded file and sniff it. Refuses an empty, oversized, binary or
    non-tabular file and a file already imported into this unit (by its SHA-256)."""
    _require(actor, owner_unit)
    if size is not None:
        pipeline.check_size(size)
    limit = settings.LEAVEN_IMPORT_MAX_BYTES
    directory = _job_dir()
    fd, temp_name = tempfile.mkstemp(dir=directory, suffix=".upload")
    temp = Path(temp_name)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in iter(lambda: stream.read(pipeline.READ_CHUNK), b""):
                written += len(chunk)
                if written > limit:
                    pipeline.check_size(written)
                out.write(chunk)
        digest = pipeline.file_hash(temp)
        earlier = (
            ImportJob.objects.filter(owner_unit=owner_unit, file_hash=digest)
            .exclude(state__in=[ImportJob.State.FAILED, ImportJob.State.CANCELLED])
            .order_by("created_at")
            .first()
        )
        if earlier is not None:
            raise ValidationError(
                _(
                    "This file was already imported into this unit (import #%(id)s, "
                    "%(date)s): importing it again would add nothing."
                )
                % {"id": earlier.pk, "date": earlier.created_at.date().isoformat()}
            )
        sniffed = pipeline.sniff(temp)
        final = directory / f"{uuid.uuid4().hex}.dat"
        shutil.move(str(temp), final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    job = ImportJob.objects.create(
        owner_unit=owner_unit,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        file_name=Path(file_name).name[:255] or "upload.csv",
        file_hash=digest,
        file_path=str(final),
        file_size=written,
        encoding=sniffed.encoding,
        encoding_confirmed=not sniffed.needs_confirmation,
        delimiter=sniffed.delimiter,
        header=sniffed.header,
        rows_total=sniffed.rows_estimate,
    )
    audit_record(
        actor=actor,
        verb="import.uploaded",
        obj=job,
        unit=owner_unit,
        detail={"rows": job.rows_total},
    )
    return job


def non_ascii_preview(job: ImportJob) -> list[tuple[int, str]]:
    return pipeline.sniff(Path(job.file_path), delimiter=job.delimiter).non_ascii_preview


def job_confirm_encoding(*, actor: Any, job: ImportJob) -> ImportJob:
    """The user has looked at the non-ASCII rows read as Windows-1252 and says they are right."""
    _require(actor, job.owner_unit)
    job.encoding, job.encoding_confirmed = "cp1252", True
    job.modified_at = timezone.now()
    job.save(update_fields=["encoding", "encoding_confirmed", "modified_at"])
    audit_record(actor=actor, verb="import.encoding_confirmed", obj=job, unit=job.owner_unit)
    return job


def resolve_mapping(
    *, job: ImportJob, preset: str = "", saved: ColumnMapping | None = None
) -> dict[str, Any]:
    if saved is not None:
        return {"columns": dict(saved.columns), "constants": dict(saved.constants)}
    chosen = pipeline.PRESETS.get(preset or "generic")
    if chosen is None:
        raise ValidationError(_("Unknown mapping."))
    return {
        "columns": pipeline.preset_columns(chosen, list(job.header)),
        "constants": dict(chosen.constants),
    }


def job_set_mapping(
    *,
    actor: Any,
    job: ImportJob,
    columns: dict[str, str],
    constants: dict[str, str] | None = None,
    mode: str = ImportJob.Mode.VALID,
    name: str = "",
) -> ImportJob:
    """Choose which column fills which field. A required field without a column is refused."""
    _require(actor, job.owner_unit)
    if job.state not in (ImportJob.State.UPLOADED, ImportJob.State.PREVIEWED):
        raise ValidationError(_("This import has already started."))
    header = set(job.header)
    clean = {k: v for k, v in columns.items() if v and k in pipeline.FIELDS}
    unknown = [v for v in clean.values() if v not in header]
    if unknown:
        raise ValidationError(_("The file has no column named “%(c)s”.") % {"c": unknown[0]})
    missing = [f for f in pipeline.REQUIRED if f not in clean]
    if missing:
        raise ValidationError(
            _("A column for “%(field)s” is required, and the file has none.")
            % {"field": pipeline.FIELDS[missing[0]]}
        )
    if mode not in ImportJob.Mode.values:
        raise ValidationError(_("Unknown mode."))
    job.mapping = {"columns": clean, "constants": constants or {}}
    job.mapping_name = name[:100]
    job.mode = mode
    job.state = ImportJob.State.PREVIEWED
    job.modified_at = timezone.now()
    job.save(update_fields=["mapping", "mapping_name", "mode", "state", "modified_at"])
    audit_record(
        actor=actor, verb="import.mapped", obj=job, unit=job.owner_unit, detail={"mode": mode}
    )
    return job


def mapping_save(
    *,
    actor: Any,
    owner_unit: OrgUnit,
    name: str,
    columns: dict[str, str],
    constants: dict[str, str] | None = None,
    delimiter: str = ",",
) -> ColumnMapping:
    _require(actor, owner_unit)
    name = normalize.nfc(name)[:100]
    if not name:
        raise ValidationError(_("Give the mapping a name."))
    mapping, _created = ColumnMapping.objects.update_or_create(
        owner_unit=owner_unit,
        name=name,
        defaults={
            "columns": {k: v for k, v in columns.items() if v},
            "constants": constants or {},
            "delimiter": delimiter,
            "created_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    audit_record(actor=actor, verb="import.mapping_saved", obj=mapping, unit=owner_unit)
    return mapping


def _cleaner(job: ImportJob) -> pipeline.Cleaner:
    mapping = job.mapping or {}
    return pipeline.Cleaner(
        list(job.header), dict(mapping.get("columns", {})), dict(mapping.get("constants", {}))
    )


def job_preview(
    *, job: ImportJob, rows: int = 20
) -> list[pipeline.Record | list[pipeline.Problem]]:
    """The first rows as they will be stored, or their problems. Reads only those rows."""
    if not job.encoding_confirmed:
        raise ValidationError(_("Confirm the file's encoding first."))
    cleaner = _cleaner(job)
    batch = next(
        pipeline.iter_batches(
            Path(job.file_path), encoding=job.encoding, delimiter=job.delimiter, size=rows
        ),
        [],
    )
    return [cleaner.clean(number, fields) for number, fields in batch]


def job_start(*, actor: Any, job: ImportJob) -> ImportJob:
    """Queue the run (or a resume after the last committed batch)."""
    from leaven.imports.tasks import run_import

    _require(actor, job.owner_unit)
    if not job.encoding_confirmed:
        raise ValidationError(_("Confirm the file's encoding first."))
    if not job.mapping:
        raise ValidationError(_("Choose a mapping first."))
    if job.state != ImportJob.State.PREVIEWED:
        raise ValidationError(
            _("This import has already run.")
            if job.state == ImportJob.State.DONE
            else _("This import cannot be started now.")
        )
    with transaction.atomic():
        job.state = ImportJob.State.QUEUED
        job.cancel_requested = False
        job.error = ""
        job.modified_at = timezone.now()
        job.save(update_fields=["state", "cancel_requested", "error", "modified_at"])
        audit_record(actor=actor, verb="import.queued", obj=job, unit=job.owner_unit)
        transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def job_cancel(*, actor: Any, job: ImportJob) -> ImportJob:
    """Ask a running import to stop after its current batch; a queued one stops at once."""
    _require(actor, job.owner_unit)
    if job.finished:
        return job
    ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True, modified_at=timezone.now())
    stalled = (
        job.state == ImportJob.State.RUNNING
        and job.modified_at < timezone.now() - datetime.timedelta(seconds=STALLED_SECONDS)
    )
    if stalled or job.state in (
        ImportJob.State.UPLOADED,
        ImportJob.State.PREVIEWED,
        ImportJob.State.QUEUED,
    ):
        # Not started, or its worker is gone (a crash): stop it now; it can be resumed.
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.CANCELLED, finished_at=timezone.now()
        )
    audit_record(actor=actor, verb="import.cancel_requested", obj=job, unit=job.owner_unit)
    job.refresh_from_db()
    return job


def job_delete(*, actor: Any, job: ImportJob) -> None:
    """Delete an import, its stored file and its rejects (which hold personal data)."""
    _require(actor, job.owner_unit)
    if job.state in (ImportJob.State.RUNNING, ImportJob.State.QUEUED):
        raise ValidationError(_("Cancel the import first."))
    Path(job.file_path).unlink(missing_ok=True)
    audit_record(actor=actor, verb="import.deleted", obj=job, unit=job.owner_unit)
    job.delete()


def reject_csv(*, job: ImportJob, out: IO[str]) -> None:
    """Every rejected row with its row number, column and reason; formula cells made inert."""
    for chunk in reject_csv_lines(job=job):
        out.write(chunk)


def reject_csv_lines(*, job: ImportJob) -> Iterator[str]:
    """The reject file as a stream of CSV lines (a large reject file is never held whole)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([pipeline.neutralize(str(c)) for c in cells])
        return buffer.getvalue()

    yield line([*job.header, "_row", "_column", "_reason"])
    for reject in job.rejects.all().iterator(chunk_size=2000):
        try:
            raw = json.loads(reject.raw_row) if reject.raw_row else []
        except ValueError:
            raw = [reject.raw_row]
        yield line([*raw, reject.row_number, reject.column, reject.reason])


# Running -------------------------------------------------------------------------------------


def _reserve_ids(cursor: Any, model: type[Model], count: int) -> list[int]:
    if count == 0:
        return []
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # The sequence is looked up once; each id then costs only its nextval.
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [int(r[0]) for r in cursor.fetchall()]
    top = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
    return list(range(int(top) + 1, int(top) + 1 + count))


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start : start + LOOKUP_CHUNK]


def _lookup(
    cursor: Any,
    model: type[Model],
    columns: tuple[str, ...],
    in_column: str,
    values: Iterable[Any],
    where: str = "",
    params: tuple[Any, ...] = (),
) -> list[tuple[Any, ...]]:
    """Rows of `columns` where `in_column` is one of `values` (asked in chunks), on a raw
    cursor: the bulk path builds no query objects per lookup."""
    q = connection.ops.quote_name
    items = list(values)
    rows: list[tuple[Any, ...]] = []
    select = ", ".join(q(c) for c in columns)
    if connection.vendor == "postgresql":
        # One query with the values as one array: PostgreSQL plans and runs one lookup per
        # batch (by the index, or by one pass over the table when that is cheaper) rather
        # than one per chunk of parameters.
        if items:
            extra = f" AND {where}" if where else ""
            cursor.execute(
                f"SELECT {select} FROM {q(model._meta.db_table)} "  # noqa: S608
                f"WHERE {q(in_column)} = ANY(%s){extra}",
                [items, *params],
            )
            rows.extend(cursor.fetchall())
        return rows
    for chunk in _chunks(items):
        marks = ", ".join(["%s"] * len(chunk))
        extra = f" AND {where}" if where else ""
        cursor.execute(
            f"SELECT {select} FROM {q(model._meta.db_table)} "  # noqa: S608
            f"WHERE {q(in_column)} IN ({marks}){extra}",
            [*chunk, *params],
        )
        rows.extend(cursor.fetchall())
    return rows


def _names_agree(stored: tuple[str, str] | None, row: tuple[str, str]) -> bool:
    """Whether a stored person's (sort_name, given_sort) and a row's could be one person:
    the same given name, or the same family name."""
    if stored is None:
        return False
    if stored[1] == row[1]:
        return True
    return stored[0].split("\x1f")[0] == row[0].split("\x1f")[0]


def _codes_for_points(points: list[tuple[float, float]]) -> list[tuple[str, str]]:
    """(precinct, ward) codes for points by their boundaries, when geography can answer;
    ("", "") for each point otherwise. Asked at run time so imports never depend on it;
    not asked at all for no points (loading the boundaries costs a batch more than it)."""
    if not points:
        return []
    try:
        from leaven.geo import services as geo_services
    except ImportError:
        return [("", "")] * len(points)
    many = getattr(geo_services, "household_codes_for_points", None)
    if many is not None:
        return [(str(p or ""), str(w or "")) for p, w in many(points)]
    one = getattr(geo_services, "household_codes_for_point", None)
    if one is None:
        return [("", "")] * len(points)
    return [(str(p or ""), str(w or "")) for p, w in (one(lat, lon) for lat, lon in points)]


class _Writer:
    """Writes one batch of clean records: households, people, contact points, voter records."""

    def __init__(self, job: ImportJob, actor: Any) -> None:
        self.job = job
        self.actor = actor
        self.unit_id = job.owner_unit_id
        self.source = f"import:{job.pk}"[:100]
        q = connection.ops.quote_name
        self.q = q

    def _insert(
        self,
        cursor: Any,
        model: type[Model],
        columns: tuple[str, ...],
        rows: list[Any],
        shared: tuple[tuple[str, Any], ...] = (),
    ) -> None:
        """Insert rows of `columns`; every row also gets the `shared` (column, value) pairs,
        sent once per statement rather than once per row."""
        if not rows:
            return
        q = self.q
        table = q(model._meta.db_table)
        names = (*columns, *(name for name, _value in shared))
        cols = ", ".join(q(c) for c in names)
        values = tuple(value for _name, value in shared)
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's bulk path, several times faster than executemany.
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *values))
            return
        # SQLite: many rows per INSERT statement (one statement per row costs a statement's
        # overhead per row), as many as its limit on parameters allows, up to INSERT_ROWS.
        raw = connection.connection
        width = len(columns)
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - len(values)
        per = max(1, min(INSERT_ROWS, limit // width))
        group = "(" + ", ".join(["?"] * width) + ")"
        select = ", ".join([f"column{k + 1}" for k in range(width)] + ["?"] * len(values))
        head = f"INSERT INTO {table} ({cols}) SELECT {select} FROM (VALUES "  # noqa: S608
        flat = list(chain.from_iterable(rows))
        step = per * width
        whole = len(rows) // per * step
        if whole:
            statement = head + ", ".join([group] * per) + ")"
            for start in range(0, whole, step):
                raw.execute(statement, [*values, *flat[start : start + step]])
        if whole < len(flat):
            statement = head + ", ".join([group] * (len(rows) % per)) + ")"
            raw.execute(statement, [*values, *flat[whole:]])

    def write(self, records: list[pipeline.Ready]) -> tuple[int, int]:
        # The timestamp in the database's own form, adapted once for the whole batch.
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        unit_id = self.unit_id
        created = updated = 0
        with connection.cursor() as cursor:
            # Households: one per normalized address in this unit.
            keys = sorted({r.address_key for r in records if r.address_key})
            households: dict[str, int] = {}
            known_codes: dict[int, tuple[str, str]] = {}
            for key, hid, known_precinct, known_ward in _lookup(
                cursor, Household, ("address_key", "id", "precinct_code", "ward_code"),
                "address_key", keys, "owner_unit_id = %s", (unit_id,),
            ):  # fmt: skip
                households[key] = hid
                known_codes[hid] = (known_precinct, known_ward)
            new_households: dict[str, pipeline.Ready] = {}
            for r in records:
                if r.address_key and r.address_key not in households:
                    new_households.setdefault(r.address_key, r)
            ids = _reserve_ids(cursor, Household, len(new_households))
            # A dwelling with coordinates but no codes in the file: codes from the boundaries.
            located = [
                key
                for key, r in new_households.items()
                if not r.precinct_code
                and not r.ward_code
                and r.latitude is not None
                and r.longitude is not None
            ]
            codes = dict(
                zip(
                    located,
                    _codes_for_points(
                        [
                            (
                                float(new_households[k].latitude or 0),
                                float(new_households[k].longitude or 0),
                            )
                            for k in located
                        ]
                    ),
                    strict=True,
                )
            )
            rows = []
            for new_hid, (key, r) in zip(ids, new_households.items(), strict=True):
                households[key] = new_hid
                precinct, ward = codes.get(key, (r.precinct_code, r.ward_code))
                zip_code = r.zip_code[:10]
                rows.append(
                    (new_hid, r.street, r.unit, r.city, r.state, zip_code, key,
                     r.latitude, r.longitude, precinct, ward)
                )  # fmt: skip
            self._insert(
                cursor,
                Household,
                ("id", "street", "unit", "city", "state", "zip_code", "address_key",
                 "latitude", "longitude", "precinct_code", "ward_code"),
                rows,
                (("owner_unit_id", unit_id), ("created_at", now), ("modified_at", now)),
            )  # fmt: skip
            # Codes the file carries update households it already knew (only where they
            # differ: rewriting a row with the same values costs a write for nothing).
            code_updates = {
                households[r.address_key]: (r.precinct_code, r.ward_code)
                for r in records
                if r.address_key
                and r.address_key not in new_households
                and (r.precinct_code or r.ward_code)
            }
            code_updates = {
                hid: codes for hid, codes in code_updates.items() if known_codes.get(hid) != codes
            }
            if code_updates:
                cursor.executemany(
                    f"UPDATE {self.q(Household._meta.db_table)} SET precinct_code = %s, "  # noqa: S608
                    "ward_code = %s, modified_at = %s WHERE id = %s",
                    [(p, w, now, hid) for hid, (p, w) in code_updates.items()],
                )

            # Matching: voter registration, then email, then phone, then name + address.
            match: dict[int, int] = {}  # record index -> person id
            regs = {
                (r.voter_state, r.registration_number): i
                for i, r in enumerate(records)
                if r.registration_number
            }
            voter_ids: dict[tuple[str, str], int] = {}
            if regs:
                by_state: dict[str, list[str]] = {}
                for state_code, number in sorted(regs):
                    by_state.setdefault(state_code, []).append(number)
                found: list[tuple[str, str, int, int]] = []
                for state_code, numbers in by_state.items():
                    found.extend(
                        _lookup(cursor, VoterRecord,
                                ("state", "registration_number", "person_id", "id"),
                                "registration_number", numbers,
                                "owner_unit_id = %s AND state = %s", (unit_id, state_code))
                    )  # fmt: skip
                for state, number, pid, vid in found:
                    voter_ids[(state, number)] = vid
                    if (state, number) in regs:
                        match[regs[(state, number)]] = pid
            # Blind indexes and sort keys come computed with the rows (pipeline.Preparer).
            email_keys = [r.email_index for r in records]
            phone_keys = [r.phone_index for r in records]
            emails = sorted({k for k in email_keys if k})
            phones = sorted({k for k in phone_keys if k})
            email_owner: dict[str, int] = {}
            phone_owner: dict[str, int] = {}
            email_owner.update(
                _lookup(cursor, Email, ("address_index", "person_id"), "address_index", emails)
            )
            phone_owner.update(
                _lookup(cursor, Phone, ("number_index", "person_id"), "number_index", phones)
            )
            sorts = [(r.sort_name, r.given_sort) for r in records]
            sort_keys = [r.sort_name for r in records]
            # Each row's (household, sort name), or None for a row without an address.
            homes = [
                (households[r.address_key], r.sort_name) if r.address_key else None for r in records
            ]
            resident: dict[tuple[int, str], int] = {}
            # Households made by this batch have nobody in them yet.
            # Only the (household, name) pairs a row of this batch can match are kept: the
            # other residents would only lengthen the membership and voter lookups below.
            # Rows matched by their registration already look for no one.
            wanted = {home for i, home in enumerate(homes) if home is not None and i not in match}
            hids = sorted(
                {hid for hid, _sort_name in wanted} - {households[key] for key in new_households}
            )
            for hid, sort_name, pid in _lookup(
                cursor, Person, ("household_id", "sort_name", "id"), "household_id", hids
            ):
                if (hid, sort_name) in wanted:
                    resident[(hid, sort_name)] = pid
            # Only people who belong to this unit are matched.
            members: set[int] = set()
            found_ids = sorted({*email_owner.values(), *phone_owner.values(), *resident.values()})
            members.update(
                row[0]
                for row in _lookup(
                    cursor, PersonUnit, ("person_id",), "person_id", found_ids,
                    "unit_id = %s", (unit_id,),
                )
            )  # fmt: skip
            email_owner = {k: v for k, v in email_owner.items() if v in members}
            phone_owner = {k: v for k, v in phone_owner.items() if v in members}
            resident = {k: v for k, v in resident.items() if v in members}
            # A person holds one voter record: a row with a registration of its own matches
            # only a person who has none yet (and only one such row per person).
            candidates = {*email_owner.values(), *phone_owner.values(), *resident.values()}
            registered: set[int] = set()
            registered.update(
                row[0]
                for row in _lookup(
                    cursor, VoterRecord, ("person_id",), "person_id", sorted(candidates)
                )
            )
            registered.update(match.values())
            # A shared email or phone is not proof of one person (a family often shares a
            # phone): a contact match also needs the same given name or the same family name.
            owner_names = {
                pid: (sort_name, given_sort)
                for pid, sort_name, given_sort in _lookup(
                    cursor, Person, ("id", "sort_name", "given_sort"), "id",
                    sorted({*email_owner.values(), *phone_owner.values()}),
                )
            }  # fmt: skip

            def named_alike(pid: int | None, i: int) -> bool:
                return pid is not None and _names_agree(owner_names.get(pid), sorts[i])

            for i, r in enumerate(records):
                if i in match:
                    continue
                candidate: int | None = None
                if r.email and named_alike(email_owner.get(email_keys[i]), i):
                    candidate = email_owner[email_keys[i]]
                if candidate is None and r.phone and named_alike(phone_owner.get(phone_keys[i]), i):
                    candidate = phone_owner[phone_keys[i]]
                home = homes[i]
                if candidate is None and home is not None:
                    candidate = resident.get(home)
                if candidate is not None and r.registration_number:
                    if candidate in registered:
                        candidate = None
                    else:
                        registered.add(candidate)
                if candidate is not None:
                    match[i] = candidate
            # Rows of this batch for the same new person merge, by the same rules as a match
            # with someone already stored: registration, then email, then phone (each with a
            # name that agrees), then name and address. Two registrations never merge.
            seen_reg: dict[tuple[str, str], int] = {}
            seen_email: dict[str, int] = {}
            seen_phone: dict[str, int] = {}
            seen_home: dict[tuple[int, str], int] = {}
            reg_of: dict[int, tuple[str, str]] = {}
            new_idx: list[int] = []
            alias: dict[int, int] = {}
            for i, r in enumerate(records):
                if i in match:
                    continue
                reg_key = (r.voter_state, r.registration_number)
                home = homes[i]
                first: int | None = None
                if r.registration_number and reg_key in seen_reg:
                    first = seen_reg[reg_key]
                else:
                    if r.email and email_keys[i] in seen_email:
                        first = seen_email[email_keys[i]]
                        first = first if _names_agree(sorts[first], sorts[i]) else None
                    if first is None and r.phone and phone_keys[i] in seen_phone:
                        first = seen_phone[phone_keys[i]]
                        first = first if _names_agree(sorts[first], sorts[i]) else None
                    if first is None and home is not None:
                        first = seen_home.get(home)
                    if first is not None and r.registration_number and reg_of.get(first):
                        first = None  # the first row's person already has a registration
                if first is None:
                    first = i
                    new_idx.append(i)
                else:
                    alias[i] = first
                if r.registration_number:
                    seen_reg.setdefault(reg_key, first)
                    reg_of.setdefault(first, reg_key)
                if r.email:
                    seen_email.setdefault(email_keys[i], first)
                if r.phone:
                    seen_phone.setdefault(phone_keys[i], first)
                if home is not None:
                    seen_home.setdefault(home, first)
            person_ids = _reserve_ids(cursor, Person, len(new_idx))
            pid_of: dict[int, int] = dict(match)
            people_rows, links = [], []
            for i, pid in zip(new_idx, person_ids, strict=True):
                r = records[i]
                pid_of[i] = pid
                home = homes[i]
                people_rows.append(
                    (pid, home[0] if home is not None else None, r.given_name, r.family_name,
                     (r.language or "en")[:16], r.sort_name, r.given_sort, bool(r.email),
                     bool(r.phone))
                )  # fmt: skip
                links.append((pid,))
            for i, j in alias.items():
                pid_of[i] = pid_of[j]
            self._insert(
                cursor,
                Person,
                ("id", "household_id", "given_name", "family_name", "language", "sort_name",
                 "given_sort", "has_email", "has_phone"),
                people_rows,
                (("owner_unit_id", unit_id), ("preferred_name", ""), ("pronouns", ""),
                 ("stage", "unknown"), ("custom_fields", "{}"), ("sensitive_fields", ""),
                 ("source", self.source), ("created_at", now), ("modified_at", now),
                 ("created_by_id", self.actor.pk if getattr(self.actor, "pk", None) else None)),
            )  # fmt: skip
            self._insert(
                cursor, PersonUnit, ("person_id",), links, (("unit_id", unit_id), ("since", now))
            )
            created = len(people_rows)
            # Existing people: names and household from the (corrected) file.
            updates = []
            for i, pid in match.items():
                r = records[i]
                person_hid = households.get(r.address_key) if r.address_key else None
                updates.append(
                    (r.given_name, r.family_name, sort_keys[i], sorts[i][1], person_hid, now, pid)
                )  # fmt: skip
            if updates:
                cursor.executemany(
                    f"UPDATE {self.q(Person._meta.db_table)} SET given_name = %s, "  # noqa: S608
                    "family_name = %s, sort_name = %s, given_sort = %s, "
                    "household_id = COALESCE(%s, household_id), modified_at = %s WHERE id = %s",
                    updates,
                )
            updated = len({pid for pid in match.values()})
            self._contacts(
                cursor, records, pid_of, set(match.values()), email_keys, phone_keys, now
            )
            self._voters(cursor, records, pid_of, voter_ids, now)
        return created, updated

    def _contacts(
        self,
        cursor: Any,
        records: list[pipeline.Ready],
        pid_of: dict[int, int],
        existing_people: set[int],
        email_keys: list[str],
        phone_keys: list[str],
        now: Any,
    ) -> None:
        # Only people who existed before this batch can have contact points already.
        pids = sorted(existing_people)
        have_email: dict[tuple[int, str], tuple[int, str]] = {}
        have_phone: dict[tuple[int, str], tuple[int, str]] = {}
        email_count: set[int] = set()
        phone_count: set[int] = set()
        if any(r.email for r in records):
            for eid, pid, index, status in _lookup(
                cursor, Email, ("id", "person_id", "address_index", "status"), "person_id", pids
            ):
                have_email[(pid, index)] = (eid, status)
                email_count.add(pid)
        if any(r.phone for r in records):
            for phid, pid, index, status in _lookup(
                cursor, Phone, ("id", "person_id", "number_index", "sms_status"), "person_id", pids
            ):
                have_phone[(pid, index)] = (phid, status)
                phone_count.add(pid)
        new_emails, new_phones, opt_out_emails, opt_out_phones = [], [], [], []
        flagged_email, flagged_phone = set(), set()
        for i, r in enumerate(records):
            pid = pid_of[i]
            if r.email:
                index = email_keys[i]
                existing = have_email.get((pid, index))
                if existing is None:
                    # No consent unless the file says so plainly; a "no" is an unsubscribe.
                    status = EMAIL_NO_CONSENT
                    if r.email_consent is not None:
                        status = EMAIL_SUBSCRIBED if r.email_consent else EMAIL_UNSUBSCRIBED
                    primary = pid not in email_count
                    email_count.add(pid)
                    have_email[(pid, index)] = (0, status)
                    new_emails.append(
                        (pid, r.email_sealed, index, status, primary,
                         now if r.email_consent is not None else None)
                    )  # fmt: skip
                    if pid in existing_people:
                        flagged_email.add(pid)
                elif r.email_consent is False and existing[0]:
                    opt_out_emails.append((EMAIL_UNSUBSCRIBED, now, existing[0]))
            if r.phone:
                index = phone_keys[i]
                existing = have_phone.get((pid, index))
                if existing is None:
                    status = SMS_IN if r.sms_consent else SMS_NONE
                    if r.sms_consent is False:
                        status = SMS_OUT
                    primary = pid not in phone_count
                    phone_count.add(pid)
                    have_phone[(pid, index)] = (0, status)
                    new_phones.append(
                        (pid, r.phone_sealed, index, status, primary,
                         now if r.sms_consent is not None else None)
                    )  # fmt: skip
                    if pid in existing_people:
                        flagged_phone.add(pid)
                elif r.sms_consent is False and existing[0]:
                    opt_out_phones.append((SMS_OUT, now, existing[0]))
        self._insert(
            cursor,
            Email,
            ("person_id", "address", "address_index", "status", "is_primary", "consent_at"),
            new_emails,
            (("source", self.source), ("created_at", now)),
        )  # fmt: skip
        self._insert(
            cursor,
            Phone,
            ("person_id", "number", "number_index", "sms_status", "is_primary", "consent_at"),
            new_phones,
            (("kind", PHONE_OTHER), ("urgent_alerts", False), ("source", self.source),
             ("created_at", now)),
        )  # fmt: skip
        # An opt-out in the file is honoured; nothing here ever lifts one.
        if opt_out_emails:
            cursor.executemany(
                f"UPDATE {self.q(Email._meta.db_table)} SET status = %s, consent_at = %s "  # noqa: S608
                "WHERE id = %s",
                opt_out_emails,
            )
        if opt_out_phones:
            cursor.executemany(
                f"UPDATE {self.q(Phone._meta.db_table)} SET sms_status = %s, consent_at = %s "  # noqa: S608
                "WHERE id = %s",
                opt_out_phones,
            )
        table = self.q(Person._meta.db_table)
        if flagged_email:
            cursor.executemany(
                f"UPDATE {table} SET has_email = %s WHERE id = %s",  # noqa: S608
                [(True, pid) for pid in sorted(flagged_email)],
            )
        if flagged_phone:
            cursor.executemany(
                f"UPDATE {table} SET has_phone = %s WHERE id = %s",  # noqa: S608
                [(True, pid) for pid in sorted(flagged_phone)],
            )

    def _voters(
        self,
        cursor: Any,
        records: list[pipeline.Ready],
        pid_of: dict[int, int],
        voter_ids: dict[tuple[str, str], int],
        now: Any,
    ) -> None:
        inserts: dict[tuple[str, str], tuple[Any, ...]] = {}
        updates = []
        source = self.source
        for i, r in enumerate(records):
            number = r.registration_number
            if not number:
                continue
            key = (r.voter_state, number)
            vid = voter_ids.get(key)
            if vid is not None:
                updates.append(
                    (r.voter_id, r.voter_status, r.party, r.registration_date, r.precinct_code,
                     r.ward_code, r.birth_year, source, now, vid)
                )  # fmt: skip
            else:
                inserts[key] = (
                    pid_of[i], r.voter_state, number, r.voter_id, r.voter_status, r.party,
                    r.registration_date, r.precinct_code, r.ward_code, r.birth_year,
                )  # fmt: skip
        self._insert(
            cursor,
            VoterRecord,
            ("person_id", "state", "registration_number", "voter_id", "status", "party",
             "registration_date", "precinct_code", "ward_code", "birth_year"),
            list(inserts.values()),
            (("owner_unit_id", self.unit_id), ("source", source), ("modified_at", now)),
        )  # fmt: skip
        if updates:
            cursor.executemany(
                f"UPDATE {self.q(VoterRecord._meta.db_table)} SET voter_id = %s, status = %s, "  # noqa: S608
                "party = %s, registration_date = %s, precinct_code = %s, ward_code = %s, "
                "birth_year = %s, source = %s, modified_at = %s WHERE id = %s",
                updates,
            )


def _save_rejects(job: ImportJob, problems: list[tuple[list[pipeline.Problem], list[str]]]) -> None:
    rows = []
    for row_problems, fields in problems:
        raw = encrypt(json.dumps(fields, ensure_ascii=False))
        for p in row_problems:
            rows.append((job.pk, p.row, p.column[:100], p.reason[:300], raw))
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {connection.ops.quote_name(ImportReject._meta.db_table)} "  # noqa: S608
                "(job_id, row_number, column, reason, raw_row) VALUES (%s, %s, %s, %s, %s)".replace(
                    "column,", f"{connection.ops.quote_name('column')},"
                ),
                rows,
            )


def _validate_all(job: ImportJob, cleaner: pipeline.Cleaner, path: Path) -> int:
    """All-or-nothing: a first pass that only checks. Returns the number of rejected rows."""
    rejected = 0
    for batch in worker.batches(
        path,
        encoding=job.encoding,
        delimiter=job.delimiter,
        cleaner=cleaner,
        size=BATCH_ROWS,
        prepare=False,
        parallel=job.rows_total >= worker.WORKER_ROWS,
    ):
        if batch.problems:
            with transaction.atomic():
                _save_rejects(job, batch.problems)
            rejected += len(batch.problems)
    return rejected


# Secondary indexes a bulk load drops and rebuilds: never a unique one (those guard
# correctness) and never one the loader's own lookups use (residents by household and sort
# name, the blind indexes of emails and phones, the person of a voter record); an index is
# named here by its table and leading column.
BULK_MODELS: tuple[type[Model], ...] = (Person, PersonUnit, Household, VoterRecord, Email, Phone)
BULK_KEEP = {
    ("people_person", "household_id"),
    ("people_email", "address_index"),
    ("people_phone", "number_index"),
}


def _bulk_statements() -> list[tuple[str, str, str]]:
    """(table, index name, CREATE INDEX statement) of the droppable indexes, from the models
    themselves, so a rebuild never depends on anything the load wrote down."""
    statements: list[tuple[str, str, str]] = []
    # Only its statement builder is used, outside a `with`: entering a SQLite schema
    # editor would need foreign-key checks off, which cannot change inside a transaction.
    editor = connection.schema_editor(collect_sql=True, atomic=False)
    for model in BULK_MODELS:
        table = model._meta.db_table
        # Django's own list of a model's non-unique indexes (what migrate creates).
        for statement in editor._model_indexes_sql(model):  # type: ignore[attr-defined]
            sql = str(statement)
            # An index is kept when the loader's lookups can read it: its leading column.
            leading = str(statement.parts.get("columns")).split(",")[0].strip().strip('"')
            name = str(statement.parts["name"]).strip('"')
            if (table, leading) in BULK_KEEP:
                continue
            statements.append((table, name, sql))
    return statements


def _present_indexes(cursor: Any) -> set[str]:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    else:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row[0] for row in cursor.fetchall()}


def bulk_indexes_restore() -> list[str]:
    """Rebuild any droppable index a bulk load left out (a load that finished, was
    cancelled, or was killed before it could rebuild). Cheap when nothing is missing.
    Returns the names rebuilt."""
    rebuilt: list[str] = []
    with connection.cursor() as cursor:
        present = _present_indexes(cursor)
        missing = [(name, sql) for _table, name, sql in _bulk_statements() if name not in present]
        if not missing:
            return rebuilt
        # (Only outside a transaction: SQLite refuses the change inside one.)
        sqlite = connection.vendor == "sqlite" and not connection.in_atomic_block
        if sqlite:
            # A rebuild sorts the whole table: let SQLite's sorter spill to temporary files,
            # not to memory (the connection keeps temporary data in memory otherwise).
            cursor.execute("PRAGMA temp_store=FILE")
        try:
            for name, sql in missing:
                cursor.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
                rebuilt.append(name)
        finally:
            if sqlite:
                cursor.execute("PRAGMA temp_store=MEMORY")
    return rebuilt


def _bulk_indexes_drop(job: ImportJob) -> bool:
    """For a large load on SQLite: drop the secondary indexes of the people tables that
    the load does not read, so each row is written once instead of once per index, and
    rebuild them (sorted, in one pass each) when the load ends. Only when the load is
    large and not much smaller than what is already stored (a rebuild reads the whole
    table). While it runs, lists sorted by name are slower for everyone; nothing is wrong,
    and a killed load's indexes are rebuilt by the next run of any import."""
    remaining = job.rows_total - job.checkpoint_row
    if connection.vendor not in BULK_VENDORS or remaining < BULK_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(Person._meta.db_table)}")  # noqa: S608
        stored = int(cursor.fetchone()[0] or 0)
        if remaining * 2 < stored:
            return False
        present = _present_indexes(cursor)
        for _table, name, _sql in _bulk_statements():
            if name in present:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    return True


def job_run(*, job_id: int) -> ImportJob:
    """Run (or resume) an import: batch after batch, each committed with its checkpoint.
    Safe to run twice: a finished import is left alone; a resumed one starts after the last
    committed row."""
    job = ImportJob.objects.select_related("owner_unit", "actor").get(pk=job_id)
    if job.finished or job.state not in (ImportJob.State.QUEUED, ImportJob.State.RUNNING):
        return job
    bulk_indexes_restore()
    bulk = _bulk_indexes_drop(job)
    if connection.vendor == "sqlite":
        # Memory-mapped reads help pages, not a bulk load: without them the process's memory
        # is bounded by the page cache, whatever the size of the file or the database.
        # A batch dirties thousands of pages: with the default automatic checkpoint (every
        # 1,000 pages) every commit copies the log back into the database and syncs it,
        # rewriting the same index pages batch after batch. Checkpoint less often during
        # the run (the log stays on disk, not in memory); a killed process loses no commit.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size=0")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        if bulk:
            # The loader writes only ids it has just read or reserved in the same
            # transaction; checking each reference again per row is redundant work.
            # (A no-op inside an outer transaction, where the checks stay on.)
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys=OFF")
    # A batch holds tens of thousands of small objects that all live until it is written:
    # the cycle collector would walk them again and again for nothing (they hold no
    # cycles). Collect less often during the run, and as before afterwards.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), thresholds[1], thresholds[2])
    try:
        return _run(job)
    finally:
        gc.set_threshold(*thresholds)
        if bulk and connection.connection is not None:
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA foreign_keys=ON")
            bulk_indexes_restore()
        if connection.vendor == "sqlite" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA mmap_size=268435456")
                cursor.execute("PRAGMA wal_autocheckpoint=1000")


# On PostgreSQL, the run refreshes the planner's statistics of the tables it writes after
# these batches: a table that was empty when last analyzed (a first load) otherwise keeps
# being planned as empty, and the registration lookup then reads every voter record of the
# unit for each batch instead of going to the registration numbers in the unique index.
ANALYZE_AFTER = frozenset({1, 4, 16, 64})
ANALYZE_MODELS: tuple[type[Model], ...] = (Household, Person, PersonUnit, VoterRecord, Email, Phone)


def _analyze() -> None:
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in ANALYZE_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


def _run(job: ImportJob) -> ImportJob:
    actor = job.actor
    path = Path(job.file_path)
    cleaner = _cleaner(job)
    start = time.monotonic()
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.RUNNING, started_at=job.started_at or timezone.now()
    )
    try:
        if job.mode == ImportJob.Mode.ALL and job.checkpoint_row == 0:
            ImportReject.objects.filter(job=job).delete()
            rejected = _validate_all(job, cleaner, path)
            if rejected:
                message = _(
                    "%(n)s rows have problems, so nothing was imported (all or nothing). "
                    "Download the reject file, fix the rows and upload the file again."
                ) % {"n": rejected}
                ImportJob.objects.filter(pk=job.pk).update(
                    state=ImportJob.State.FAILED,
                    rows_rejected=rejected,
                    error=message,
                    finished_at=timezone.now(),
                )
                return ImportJob.objects.get(pk=job.pk)
        writer = _Writer(job, actor)
        batches = worker.batches(
            path,
            encoding=job.encoding,
            delimiter=job.delimiter,
            cleaner=cleaner,
            size=BATCH_ROWS,
            start_after=job.checkpoint_row,
            parallel=job.rows_total - job.checkpoint_row >= worker.WORKER_ROWS,
        )
        with closing(batches):
            for number, batch in enumerate(batches, start=1):
                if ImportJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                    ImportJob.objects.filter(pk=job.pk).update(
                        state=ImportJob.State.CANCELLED, finished_at=timezone.now()
                    )
                    return ImportJob.objects.get(pk=job.pk)
                records, problems = batch.ready, batch.problems
                last = batch.last
                with transaction.atomic():
                    # Touch the job first: on SQLite this takes the write lock before ids are read.
                    ImportJob.objects.filter(pk=job.pk).update(modified_at=timezone.now())
                    created, updated = writer.write(records) if records else (0, 0)
                    if job.mode == ImportJob.Mode.VALID:
                        _save_rejects(job, problems)
                    audit_record(
                        actor=actor,
                        verb="import.batch",
                        obj=job,
                        unit=job.owner_unit,
                        detail={
                            "first_row": batch.first,
                            "last_row": last,
                            "created": created,
                            "updated": updated,
                            "rejected": len(problems),
                        },
                    )
                    job.rows_read = last
                    job.rows_created += created
                    job.rows_updated += updated
                    if job.mode == ImportJob.Mode.VALID:
                        job.rows_rejected += len(problems)
                    job.checkpoint_row = last
                    ImportJob.objects.filter(pk=job.pk).update(
                        rows_read=job.rows_read,
                        rows_created=job.rows_created,
                        rows_updated=job.rows_updated,
                        rows_rejected=job.rows_rejected,
                        checkpoint_row=last,
                        modified_at=timezone.now(),
                    )
                if number in ANALYZE_AFTER:
                    _analyze()
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.DONE,
            rows_total=max(job.rows_read, 0),
            finished_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            verb="import.done",
            obj=job,
            unit=job.owner_unit,
            detail={"seconds": round(time.monotonic() - start, 1)},
        )
    except UnicodeDecodeError:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED,
            error=_("The file is not valid in the chosen encoding."),
            finished_at=timezone.now(),
        )
    except Exception as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED,
            error=_("The import stopped: %(error)s") % {"error": type(exc).__name__},
            finished_at=timezone.now(),
        )
        raise
    return ImportJob.objects.get(pk=job.pk)


def job_resume(*, actor: Any, job: ImportJob) -> ImportJob:
    """Continue a cancelled, failed or interrupted import after its last committed batch."""
    _require(actor, job.owner_unit)
    if job.state == ImportJob.State.DONE:
        raise ValidationError(_("This import has already run."))
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.PREVIEWED, cancel_requested=False, finished_at=None
    )
    job.refresh_from_db()
    return job_start(actor=actor, job=job)
