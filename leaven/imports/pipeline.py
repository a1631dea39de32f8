"""The import pipeline, without the database: sniffing, encodings, presets, reading a file in
batches and turning each row into a clean record or a list of problems.

The file is read as a stream (a fixed number of rows at a time), never whole: memory stays
flat as files grow. The reader is the standard library's csv module rather than a columnar
parser because every row must be checked for its own field count: a row with too many or too
few fields is rejected by number, never padded or truncated in silence. Parsing is a small
share of an import's time; writing the rows and their indexes is most of it.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import operator
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leaven.core.crypto import blind_index, encrypt
from leaven.people import normalize

SNIFF_BYTES = 64 * 1024
READ_CHUNK = 1024 * 1024
csv.field_size_limit(1024 * 1024)

# Leaven's fields a column can be mapped to.
FIELDS: dict[str, Any] = {
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "street": gettext_lazy("Street address"),
    "unit": gettext_lazy("Apartment or unit"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State"),
    "zip_code": gettext_lazy("ZIP code"),
    "latitude": gettext_lazy("Latitude"),
    "longitude": gettext_lazy("Longitude"),
    "language": gettext_lazy("Preferred language"),
    "email_consent": gettext_lazy("Email consent"),
    "sms_consent": gettext_lazy("SMS consent"),
    "registration_number": gettext_lazy("Voter registration number"),
    "voter_id": gettext_lazy("Statewide voter id"),
    "voter_state": gettext_lazy("Voter file state"),
    "voter_status": gettext_lazy("Voter status"),
    "party": gettext_lazy("Party"),
    "registration_date": gettext_lazy("Registration date"),
    "birth_year": gettext_lazy("Birth year"),
    "precinct_code": gettext_lazy("Precinct code"),
    "ward_code": gettext_lazy("Ward code"),
}
REQUIRED = ("given_name",)
# Cleaner.clean unpacks a row's values in this order, which is FIELDS's.
CLEAN_ORDER = (
    "given_name", "family_name", "email", "phone", "street", "unit", "city", "state",
    "zip_code", "latitude", "longitude", "language", "email_consent", "sms_consent",
    "registration_number", "voter_id", "voter_state", "voter_status", "party",
    "registration_date", "birth_year", "precinct_code", "ward_code",
)  # fmt: skip
if tuple(FIELDS) != CLEAN_ORDER:
    raise ImportError("leaven.imports.pipeline: CLEAN_ORDER must follow FIELDS")


@dataclass(frozen=True)
class Preset:
    key: str
    label: Any
    delimiter: str
    # Leaven field -> the column names that may hold it, first found wins.
    columns: dict[str, tuple[str, ...]]
    constants: dict[str, str] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            key="ncvoter",
            label=gettext_lazy("North Carolina voter file"),
            delimiter="\t",
            columns={
                "given_name": ("first_name",),
                "family_name": ("last_name",),
                "phone": ("full_phone_number",),
                "street": ("res_street_address",),
                "city": ("res_city_desc",),
                "state": ("state_cd",),
                "zip_code": ("zip_code",),
                "registration_number": ("voter_reg_num",),
                "voter_id": ("ncid",),
                "voter_status": ("status_cd",),
                "party": ("party_cd",),
                "registration_date": ("registr_dt",),
                "birth_year": ("birth_year",),
                "precinct_code": ("precinct_abbrv",),
                "ward_code": ("ward_abbrv",),
            },
            constants={"voter_state": "NC"},
        ),
        Preset(
            key="actionnetwork",
            label=gettext_lazy("Action Network people export"),
            delimiter=",",
            columns={
                "given_name": ("first_name", "given_name"),
                "family_name": ("last_name", "family_name"),
                "email": ("email", "email_address"),
                "phone": ("can2_phone", "phone_number", "phone"),
                "street": ("address", "address_line", "can2_address"),
                "city": ("city", "can2_city", "locality"),
                "state": ("state", "can2_state_abbreviated", "region"),
                "zip_code": ("zip_code", "postal_code", "zip"),
                "language": ("language",),
                "email_consent": ("can2_subscription_status", "email_subscription_status"),
                "sms_consent": ("can2_sms_status", "sms_subscription_status"),
            },
        ),
        Preset(
            key="generic",
            label=gettext_lazy("Generic list"),
            delimiter=",",
            columns={name: (name,) for name in FIELDS if name != "voter_state"},
        ),
    )
}


def preset_columns(preset: Preset, header: list[str]) -> dict[str, str]:
    """The preset's mapping resolved against a file's header (case-insensitive)."""
    lowered = {name.strip().lower(): name for name in header}
    resolved: dict[str, str] = {}
    for target, candidates in preset.columns.items():
        for candidate in candidates:
            if candidate.lower() in lowered:
                resolved[target] = lowered[candidate.lower()]
                break
    return resolved


# Sniffing ------------------------------------------------------------------------------------

BINARY_MAGIC = (b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")


@dataclass
class Sniffed:
    encoding: str  # "utf-8", "utf-8-sig" or "cp1252"
    delimiter: str
    header: list[str]
    rows_estimate: int
    needs_confirmation: bool
    non_ascii_preview: list[tuple[int, str]]


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_size(size: int) -> None:
    if size == 0:
        raise ValidationError(_("The file is empty."))
    limit = settings.LEAVEN_IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("The file is too large: the limit is %(limit)s MB.")
            % {"limit": max(1, limit // (1024 * 1024))}
        )


def sniff(path: Path, *, delimiter: str = "") -> Sniffed:
    """Look at a stored file before parsing it: refuse what is not a table, check the limits,
    find the encoding and delimiter. Reads the file once, in chunks."""
    size = path.stat().st_size
    check_size(size)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(BINARY_MAGIC) or b"\x00" in head:
        raise ValidationError(
            _("This is not a CSV or tab-delimited text file (it looks like a binary file).")
        )
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if controls > len(head) // 100:
        raise ValidationError(
            _("This is not a CSV or tab-delimited text file (it holds control characters).")
        )
    bom = head.startswith(codecs.BOM_UTF8)
    # One pass: count lines (the row limit is checked before parsing) and check UTF-8.
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    lines = 0
    non_ascii: list[tuple[int, bytes]] = []
    line_no = 0
    pending = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(READ_CHUNK), b""):
            lines += chunk.count(b"\n")
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if len(non_ascii) < 20:
                parts = (pending + chunk).split(b"\n")
                pending = parts.pop()
                for part in parts:
                    line_no += 1
                    if len(non_ascii) < 20 and line_no > 1 and any(b > 127 for b in part):
                        non_ascii.append((line_no, part))
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if not head.endswith(b"\n") and size <= SNIFF_BYTES:
        lines += 1
    elif size > 0:
        with path.open("rb") as handle:
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                lines += 1
    rows = max(0, lines - 1)
    if rows > settings.LEAVEN_IMPORT_MAX_ROWS:
        raise ValidationError(
            _("The file has too many rows: the limit is %(limit)s.")
            % {"limit": settings.LEAVEN_IMPORT_MAX_ROWS}
        )
    encoding = ("utf-8-sig" if bom else "utf-8") if utf8 else "cp1252"
    text = head.decode(encoding if utf8 else "cp1252", errors="replace")
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not delimiter:
        counts = {d: first_line.count(d) for d in ("\t", ",", ";", "|")}
        delimiter = max(counts, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            raise ValidationError(
                _("This file does not look like a table: its first line has no columns.")
            )
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    header = [unicodedata.normalize("NFC", h).strip() for h in header]
    if len(header) < 2 or not any(header):
        raise ValidationError(
            _("This file does not look like a table: its first line has no columns.")
        )
    if len(set(header)) != len(header):
        raise ValidationError(_("Two columns in the first line have the same name."))
    preview = [(n, raw.decode("cp1252", errors="replace").rstrip("\r")) for n, raw in non_ascii]
    return Sniffed(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        rows_estimate=rows,
        needs_confirmation=not utf8,
        non_ascii_preview=preview,
    )


# Reading -------------------------------------------------------------------------------------


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115


def iter_batches(
    path: Path, *, encoding: str, delimiter: str, start_after: int = 0, size: int = 5000
) -> Iterator[list[tuple[int, list[str]]]]:
    """Batches of (row number, fields), row 1 being the first row after the header, starting
    after `start_after`. A streaming reader: only one batch is held at a time."""
    with open_text(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar='"', strict=False)
        next(reader, None)
        batch: list[tuple[int, list[str]]] = []
        number = 0
        for fields in reader:
            if not fields:
                continue
            number += 1
            if number <= start_after:
                continue
            batch.append((number, fields))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


# Cleaning ------------------------------------------------------------------------------------

WORD = re.compile(r"[a-z0-9#]+")
PHONE_PUNCTUATION = str.maketrans("", "", " ()-.+")


def fold(text: str) -> str:
    """leaven.people.normalize.fold, with a fast path for plain ASCII (most voter-file
    names and addresses): there, decomposition and accent stripping change nothing and
    case-folding is lower-casing."""
    if text.isascii():
        return " ".join(text.lower().split())
    return normalize.fold(text)


def sort_key(family_name: str, given_name: str) -> str:
    """leaven.people.normalize.sort_key, through the fast fold."""
    return f"{fold(family_name)}\x1f{fold(given_name)}"[:200]


def _words(text: str) -> list[str]:
    words = normalize.STREET_WORDS
    return [words.get(w, w) for w in WORD.findall(text.lower().replace("#", " # "))]


def address_key(street: str, unit: str, city: str, state: str, zip_code: str) -> str:
    """leaven.people.normalize.address_key, with a fast path for plain ASCII addresses
    (a test holds the two to the same answers)."""
    if not (street.isascii() and unit.isascii() and city.isascii() and state.isascii()):
        return normalize.address_key(street, unit, city, state, zip_code)
    street_words = _words(street)
    unit_words = [w for w in _words(unit) if w not in {"apt", "ste"}]
    if not unit_words and len(street_words) > 2 and street_words[-2] in {"apt", "ste"}:
        street_words, unit_words = street_words[:-2], street_words[-1:]
    parts = [
        " ".join(street_words),
        " ".join(unit_words),
        " ".join(_words(city)),
        fold(state)[:2],
        re.sub(r"\D", "", zip_code)[:5],
    ]
    return "|".join(parts)[:255]


MISSING: Any = object()
MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf]|â€|Ã[\u00a0-\u00bf]")
TRUTHY = {"yes", "y", "true", "1", "subscribed", "opted_in", "opt-in", "optin", "si", "sí"}
FALSY = {"no", "n", "false", "0", "unsubscribed", "opted_out", "opt-out", "optout", "stop"}


@dataclass(slots=True)
class Record:
    row: int
    given_name: str
    family_name: str
    email: str = ""
    phone: str = ""
    email_consent: bool | None = None
    sms_consent: bool | None = None
    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    language: str = ""
    address_key: str = ""
    registration_number: str = ""
    voter_id: str = ""
    voter_state: str = ""
    voter_status: str = ""
    party: str = ""
    registration_date: datetime.date | None = None
    birth_year: int | None = None
    precinct_code: str = ""
    ward_code: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class Problem:
    row: int
    column: str
    reason: str


class Cleaner:
    """Turns one row into a Record or its problems. Caches the costly derived values (address
    keys, phone numbers) because voter files repeat them."""

    def __init__(self, header: list[str], mapping: dict[str, str], constants: dict[str, str]):
        self.width = len(header)
        self.index = {target: header.index(col) for target, col in mapping.items() if col}
        self.columns = dict(mapping)
        self.constants = constants
        self.address_keys: dict[tuple[str, ...], str] = {}
        self.phones: dict[str, str | None] = {}
        self.exchanges: dict[str, str | None] = {}
        self.dates: dict[str, datetime.date | None] = {}
        self.year = datetime.datetime.now(tz=datetime.UTC).year
        self.repeated: dict[str, str] = {}
        self.same = self.repeated.setdefault
        self._layout()

    def missing_required(self) -> list[str]:
        return [name for name in REQUIRED if name not in self.index]

    def _phone(self, raw: str) -> str | None:
        """E.164, exactly as leaven.people.normalize.phone_normalize gives it. A plain US
        number is checked once per area code and exchange (validity depends on those)."""
        bare = raw.translate(PHONE_PUNCTUATION)
        if bare.isascii() and bare.isdigit():
            # Only digits and punctuation (the common case): no per-character scan.
            digits = bare[1:] if len(bare) == 11 and bare[0] == "1" else bare
            plain = len(digits) == 10
        else:
            digits = "".join(ch for ch in raw if ch.isdigit())
            if len(digits) == 11 and digits[0] == "1":
                digits = digits[1:]
            plain = (
                len(digits) == 10
                and digits.isascii()
                and all(ch.isdigit() or ch in " ()-.+" for ch in raw)
            )
        if plain and "+" in raw and not raw.lstrip().startswith("+1"):
            plain = False  # an international number (+43 1 2345678) is not a US one
        # Two caches: a plain number's area code and exchange ("919555") must never answer
        # for a raw value that happens to spell the same ("919555", not a valid number).
        cache, key = (self.exchanges, digits[:6]) if plain else (self.phones, raw)
        cached = cache.get(key, "")
        if cached == "":
            try:
                parsed = phonenumbers.parse(raw, "US")
                cached = (
                    phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(parsed)
                    else None
                )
            except phonenumbers.NumberParseException:
                cached = None
            if len(cache) < 50_000:
                cache[key] = cached
        if plain:
            return None if cached is None else "+1" + digits
        return cached

    def _layout(self) -> None:
        """Where each of Leaven's fields comes from in a row extended by `tail`: its column,
        else its constant, else an empty string. One C-level getter then reads them all."""
        targets = CLEAN_ORDER
        self.tail = [
            "",
            *[self.constants[t] for t in targets if t not in self.index and t in self.constants],
        ]
        positions: list[int] = []
        constant_at = self.width + 1
        self.constant_slots: list[tuple[int, str]] = []
        for k, target in enumerate(targets):
            if target in self.index:
                positions.append(self.index[target])
            elif target in self.constants:
                positions.append(constant_at)
                self.constant_slots.append((k, self.constants[target]))
                constant_at += 1
            else:
                positions.append(self.width)
        self.getter = operator.itemgetter(*positions)
        # The mapped fields in the mapping's order (the order their problems are listed).
        self.mapped = [(targets.index(t), self.columns[t]) for t in self.index if t in FIELDS]

    def clean(self, row: int, fields: list[str]) -> Record | list[Problem]:
        if len(fields) != self.width:
            reason = _("The row has %(n)s fields; the header has %(m)s.") % {
                "n": len(fields),
                "m": self.width,
            }
            return [Problem(row, "", reason)]
        problems: list[Problem] = []
        values = [value.strip() for value in self.getter([*fields, *self.tail])]
        for k, constant in self.constant_slots:
            values[k] = constant  # a constant is taken as given
        if not "".join(values).isascii():
            for k, column in self.mapped:
                value = values[k]
                if value.isascii():
                    continue
                value = unicodedata.normalize("NFC", value).strip()
                if MOJIBAKE.search(value):
                    problems.append(
                        Problem(
                            row,
                            column,
                            _("The text looks garbled (wrong encoding), for example “%(v)s”.")
                            % {"v": value[:40]},
                        )
                    )
                values[k] = value
        (
            given_name, family_name, email, phone, street, unit, city, state, zip_code,
            latitude, longitude, language, email_consent, sms_consent, registration_number,
            voter_id, voter_state, voter_status, party, registration_date, birth_year,
            precinct_code, ward_code,
        ) = values  # fmt: skip
        # Values that repeat across rows (names, places, codes) are kept as one object each:
        # a batch then holds, and sends to the writer, one copy of each.
        if len(self.repeated) > 50_000:
            self.repeated.clear()
        same = self.same
        given_name = same(given_name, given_name)
        family_name = same(family_name, family_name)
        city, state, zip_code = same(city, city), same(state, state), same(zip_code, zip_code)
        voter_status, party = same(voter_status, voter_status), same(party, party)
        precinct_code, ward_code = same(precinct_code, precinct_code), same(ward_code, ward_code)
        columns = self.columns
        record = Record(row=row, given_name=given_name, family_name=family_name)
        if not given_name:
            problems.append(
                Problem(row, columns.get("given_name", ""), _("A given name is required."))
            )
        if len(given_name) > 100 or len(family_name) > 100:
            problems.append(Problem(row, columns.get("given_name", ""), _("Name too long.")))
        if email:
            try:
                record.email = normalize.email_normalize(email)
            except ValidationError:
                problems.append(Problem(row, columns["email"], _("Not a valid email address.")))
        if phone:
            number = self._phone(phone)
            if number is None:
                problems.append(Problem(row, columns["phone"], _("Not a valid phone number.")))
            else:
                record.phone = number
        if email_consent:
            record.email_consent = yes_no(email_consent)
            if record.email_consent is None:
                problems.append(
                    Problem(row, columns["email_consent"], _("Consent must be yes or no."))
                )
        if sms_consent:
            record.sms_consent = yes_no(sms_consent)
            if record.sms_consent is None:
                problems.append(
                    Problem(row, columns["sms_consent"], _("Consent must be yes or no."))
                )
        record.street = street = street[:200]
        record.unit = unit = unit[:40]
        record.city = city = city[:100]
        record.state = state = state.upper()
        record.zip_code = zip_code
        if street:
            if not city or len(state) != 2 or not state.isalpha():
                problems.append(
                    Problem(
                        row,
                        columns.get("street", ""),
                        _("An address needs a street, a city and a two-letter state."),
                    )
                )
            digits = zip_code.replace("-", "")
            if zip_code and not (digits.isdigit() and len(digits) in (5, 9)):
                problems.append(
                    Problem(row, columns.get("zip_code", ""), _("Enter a 5-digit ZIP code."))
                )
            key = (street, unit, city, state, zip_code)
            address = self.address_keys.get(key)
            if address is None:
                address = address_key(*key)
                if len(self.address_keys) > 50_000:
                    self.address_keys.clear()
                self.address_keys[key] = address
            record.address_key = address
        if latitude:
            try:
                record.latitude = float(latitude)
            except ValueError:
                problems.append(Problem(row, columns["latitude"], _("Not a number.")))
        if longitude:
            try:
                record.longitude = float(longitude)
            except ValueError:
                problems.append(Problem(row, columns["longitude"], _("Not a number.")))
        record.language = language[:16]
        record.registration_number = registration_number = registration_number[:40]
        record.voter_id = voter_id[:40]
        record.voter_state = voter_state = voter_state.upper()[:2]
        record.voter_status = voter_status[:40]
        record.party = party[:20]
        record.precinct_code = precinct_code[:40]
        record.ward_code = ward_code[:40]
        if registration_number and len(voter_state) != 2:
            record.voter_state = state
        if registration_date:
            # Registration dates repeat across a voter file: parse each once.
            parsed = self.dates.get(registration_date, MISSING)
            if parsed is MISSING:
                parsed = parse_date(registration_date)
                if len(self.dates) > 50_000:
                    self.dates.clear()
                self.dates[registration_date] = parsed
            if parsed is None:
                problems.append(Problem(row, columns["registration_date"], _("Not a date.")))
            record.registration_date = parsed
        if birth_year:
            if birth_year.isdigit() and 1890 <= int(birth_year) <= self.year:
                record.birth_year = int(birth_year)
            else:
                problems.append(Problem(row, columns["birth_year"], _("Not a birth year.")))
        return problems or record


def yes_no(raw: str) -> bool | None:
    """A consent cell read as yes (True) or no (False); None for anything else."""
    value = raw.lower()
    if value in TRUTHY:
        return True
    if value in FALSY:
        return False
    return None


def parse_date(raw: str) -> datetime.date | None:
    raw = raw.strip()
    parts = raw.split("/")
    if len(parts) == 3 and len(parts[2]) == 4 and all(p.isdigit() for p in parts):
        try:
            return datetime.date(int(parts[2]), int(parts[0]), int(parts[1]))
        except ValueError:
            return None
    for pattern in ("%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y"):
        try:
            return datetime.datetime.strptime(raw, pattern).date()  # noqa: DTZ007
        except ValueError:
            continue
    return None


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """A cell a spreadsheet would run as a formula, made inert with a leading quote."""
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


# Preparing -----------------------------------------------------------------------------------


class Ready(NamedTuple):
    """A clean row as the writer takes it: the record's values, plus what the writer derives
    from them (sort keys, blind indexes, sealed contact values) computed ahead. A plain
    tuple, so that a batch crosses from the reading process to the writer cheaply."""

    row: int
    given_name: str
    family_name: str
    email: str
    phone: str
    email_consent: bool | None
    sms_consent: bool | None
    street: str
    unit: str
    city: str
    state: str
    zip_code: str
    latitude: float | None
    longitude: float | None
    language: str
    address_key: str
    registration_number: str
    voter_id: str
    voter_state: str
    voter_status: str
    party: str
    registration_date: datetime.date | None
    birth_year: int | None
    precinct_code: str
    ward_code: str
    sort_name: str
    given_sort: str
    email_index: str
    phone_index: str
    email_sealed: str
    phone_sealed: str


# The Record fields a Ready tuple carries, in its order.
_CARRIED = operator.attrgetter(*[name for name in Ready._fields if name in Record.__slots__])


@dataclass
class Batch:
    """One batch of the file, cleaned: its first and last row numbers, the rows ready to
    write, and the rejected rows with their problems and raw fields."""

    first: int
    last: int
    ready: list[Ready]
    problems: list[tuple[list[Problem], list[str]]]


class Preparer:
    """Cleans a batch and prepares its rows for the writer. The sort keys are exactly
    leaven.people.normalize.sort_key's (through the fast fold), cached per name because
    voter files repeat them; blind indexes and sealed values are leaven.core.crypto's."""

    def __init__(self, cleaner: Cleaner) -> None:
        self.cleaner = cleaner
        self.sorts: dict[tuple[str, str], tuple[str, str]] = {}

    def _sorts(self, family: str, given: str) -> tuple[str, str]:
        key = (family, given)
        value = self.sorts.get(key)
        if value is None:
            if len(self.sorts) > 50_000:
                self.sorts.clear()
            value = sort_key(family, given), fold(given)[:100]
            self.sorts[key] = value
        return value

    def batch(
        self, rows: list[tuple[int, list[str]]], *, prepare: bool = True
    ) -> tuple[list[tuple[Any, ...]], list[tuple[list[Problem], list[str]]]]:
        """The batch cleaned: its rows ready to write, as plain tuples in the order of
        Ready's fields, and its rejected rows. With prepare=False only the problems (a
        checking pass)."""
        clean = self.cleaner.clean
        ready: list[tuple[Any, ...]] = []
        problems: list[tuple[list[Problem], list[str]]] = []
        for number, fields in rows:
            result = clean(number, fields)
            if isinstance(result, list):
                problems.append((result, fields))
            elif prepare:
                sort_name, given_sort = self._sorts(result.family_name, result.given_name)
                email, phone = result.email, result.phone
                ready.append(
                    (
                        *_CARRIED(result),
                        sort_name,
                        given_sort,
                        blind_index(email) if email else "",
                        blind_index(phone) if phone else "",
                        encrypt(email) if email else "",
                        encrypt(phone) if phone else "",
                    )
                )
        return ready, problems
