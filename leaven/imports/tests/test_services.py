"""Import services end to end: upload, mapping, run, matching, households, consent, rejects,
idempotency, cancel and resume."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leaven.geo.models import VoterRecord
from leaven.imports import services
from leaven.imports.models import ImportJob, ImportReject
from leaven.imports.tests.conftest import nc_file, nc_row
from leaven.people import services as people_services
from leaven.people.models import Email, Household, Person, PersonUnit, Phone
from leaven.people.services import EmailInput, PhoneInput

pytestmark = pytest.mark.django_db

NAMES = [("José", "Muñoz"), ("María", "Peña"), ("Thảo", "Nguyễn"), ("Sean", "O'Brien")]


def _csv(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header or ["given_name", "family_name", "email", "phone", "street", "city",
                               "state", "zip_code"])  # fmt: skip
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_names_survive_every_step(run_file, coordinator):
    """Muñoz, Peña, José, Nguyễn and O'Brien come out exactly as they went in (NFC)."""
    rows = [[g, f, "", "", "1 Main St", "Durham", "NC", "27701"] for g, f in NAMES]
    job = run_file(_csv(rows))
    assert job.state == ImportJob.State.DONE
    stored = set(Person.objects.values_list("given_name", "family_name"))
    assert stored == set(NAMES)
    preview_job = services.job_upload(
        actor=coordinator,
        owner_unit=job.owner_unit,
        file_name="again.csv",
        stream=io.BytesIO(_csv(rows) + b"Ana,Z,,,,,,\n"),
    )
    resolved = services.resolve_mapping(job=preview_job, preset="generic")
    services.job_set_mapping(actor=coordinator, job=preview_job, columns=resolved["columns"])
    previewed = services.job_preview(job=preview_job)
    assert [(r.given_name, r.family_name) for r in previewed[:4]] == NAMES


def test_decomposed_accents_are_stored_nfc(run_file):
    """A name typed with combining accents is stored in its composed (NFC) form."""
    job = run_file(_csv([["Jose\u0301", "Mun\u0303oz", "", "", "", "", "", ""]]))
    assert job.rows_created == 1
    assert Person.objects.get().given_name == "José"
    assert Person.objects.get().family_name == "Muñoz"


def test_utf8_bom_is_read(run_file):
    """A UTF-8 file with a byte-order mark keeps its first column name and its accents."""
    job = run_file(b"\xef\xbb\xbf" + _csv([["Peña", "Ramírez", "", "", "", "", "", ""]]))
    assert job.encoding == "utf-8-sig"
    assert job.header[0] == "given_name"
    assert Person.objects.get().given_name == "Peña"


def test_windows_1252_needs_confirmation(upload, coordinator, start):
    """Bytes that are not UTF-8 are never read silently: the run is refused until the user
    confirms the Windows-1252 preview, then accents come through."""
    data = _csv([["José", "Muñoz", "", "", "", "", "", ""]]).decode().encode("cp1252")
    job = upload(data)
    assert job.encoding == "cp1252" and not job.encoding_confirmed
    preview = services.non_ascii_preview(job)
    assert preview and "José" in preview[0][1]
    resolved = services.resolve_mapping(job=job, preset="generic")
    services.job_set_mapping(actor=coordinator, job=job, columns=resolved["columns"])
    with pytest.raises(ValidationError):
        services.job_start(actor=coordinator, job=job)
    services.job_confirm_encoding(actor=coordinator, job=job)
    job = start(job)
    assert job.state == ImportJob.State.DONE
    assert Person.objects.get().family_name == "Muñoz"


def test_mojibake_is_rejected_with_row_and_column(run_file):
    """“JosÃ©” (UTF-8 read as Latin-1 somewhere upstream) is rejected, not stored."""
    job = run_file(_csv([["JosÃ©", "Pérez", "", "", "", "", "", ""], ["Ana", "Ruiz"] + [""] * 6]))
    assert job.rows_created == 1 and job.rows_rejected == 1
    reject = ImportReject.objects.get(job=job)
    assert (reject.row_number, reject.column) == (1, "given_name")
    assert "garbled" in reject.reason


def test_ragged_rows_are_rejected(run_file):
    """A row with too many or too few fields is rejected with its row number."""
    data = b"given_name,family_name,city\nAna,Ruiz,Durham\nLuis,Soto\nEva,Paz,Cary,extra\n"
    job = run_file(data)
    assert job.rows_created == 1
    assert sorted(ImportReject.objects.values_list("row_number", flat=True)) == [2, 3]


def test_missing_required_column_is_refused(upload, coordinator):
    """A mapping without a given-name column is refused with a message naming the field."""
    job = upload(b"family_name,city\nRuiz,Durham\n")
    with pytest.raises(ValidationError, match="Given name"):
        services.job_set_mapping(actor=coordinator, job=job, columns={"family_name": "family_name"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" + bytes(range(256)), "binary"),
        (b"just one line of prose without any columns at all\n", "table"),
    ],
)
def test_bad_files_are_refused(upload, data, message):
    """Empty, binary and non-tabular files are refused with a clear message; nothing stays."""
    with pytest.raises(ValidationError, match=message):
        upload(data)
    assert not ImportJob.objects.exists()


def test_file_over_the_size_limit_is_refused(upload, settings):
    settings.LEAVEN_IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="too large"):
        upload(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]] * 10))


def test_file_over_the_row_limit_is_refused(upload, settings):
    settings.LEAVEN_IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationError, match="too many rows"):
        upload(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]] * 5))


def test_same_file_twice_adds_nothing(run_file, upload):
    """The same bytes into the same unit are refused, pointing at the earlier import."""
    data = _csv([["Ana", "Ruiz", "", "", "", "", "", ""]])
    job = run_file(data)
    with pytest.raises(ValidationError, match=f"#{job.pk}"):
        upload(data)
    assert Person.objects.count() == 1


def test_corrected_voter_file_updates_not_duplicates(run_file):
    """Re-importing a corrected voter file updates the people and voter records it made."""
    first = [
        nc_row(voter_reg_num="1", first_name="JOSE", last_name="MUNOZ", state_cd="NC",
               res_street_address="12 OAK ST", res_city_desc="DURHAM", zip_code="27701",
               precinct_abbrv="DU01", party_cd="DEM", registr_dt="03/15/2004", birth_year="1980"),
        nc_row(voter_reg_num="2", first_name="ANA", last_name="PEÑA", state_cd="NC",
               res_street_address="12 Oak Street", res_city_desc="Durham", zip_code="27701",
               precinct_abbrv="DU01", ward_abbrv="W2"),
    ]  # fmt: skip
    job = run_file(nc_file(first), preset="ncvoter", name="nc.txt")
    assert job.rows_created == 2
    assert Household.objects.count() == 1  # "12 OAK ST" and "12 Oak Street" are one dwelling
    household = Household.objects.get()
    assert (household.precinct_code, household.ward_code) == ("DU01", "")
    voter = VoterRecord.objects.get(registration_number="1")
    assert (voter.state, voter.party, voter.birth_year) == ("NC", "DEM", 1980)
    assert voter.registration_date.isoformat() == "2004-03-15"
    first[0][first[0].index("JOSE")] = "JOSÉ"
    job2 = run_file(nc_file(first), preset="ncvoter", name="nc-fixed.txt")
    assert (job2.rows_created, job2.rows_updated) == (0, 2)
    assert Person.objects.count() == 2 and VoterRecord.objects.count() == 2
    assert VoterRecord.objects.get(registration_number="1").person.given_name == "JOSÉ"


def test_residents_not_on_the_voter_file_stay(run_file, admin, tree):
    """A household member who is not a voter is kept, in the same household."""
    home = people_services.household_get_or_create(
        actor=admin, owner_unit=tree.committee_a, street="12 Oak St", city="Durham",
        state="NC", zip_code="27701",
    )  # fmt: skip
    kid = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Lucía", household=home
    )
    row = nc_row(
        voter_reg_num="9", first_name="ROSA", last_name="LEE", state_cd="NC",
        res_street_address="12 OAK STREET", res_city_desc="DURHAM", zip_code="27701",
    )  # fmt: skip
    run_file(nc_file([row]), preset="ncvoter", name="nc.txt")
    kid.refresh_from_db()
    assert kid.household_id == home.pk
    assert Person.objects.filter(household=home).count() == 2
    assert not VoterRecord.objects.filter(person=kid).exists()


def test_match_by_email_then_name_and_address(run_file, admin, tree):
    """An existing person is found by email through the blind index, and by name + address."""
    by_email = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Ana", family_name="Ruiz",
        emails=[EmailInput(address="ana@example.org")],
    )  # fmt: skip
    home = people_services.household_get_or_create(
        actor=admin, owner_unit=tree.committee_a, street="5 Elm Ave", city="Durham", state="NC"
    )
    by_address = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Luis", family_name="Soto",
        household=home,
    )  # fmt: skip
    job = run_file(
        _csv([
            ["Ana María", "Ruiz", "ANA@example.org", "", "", "", "", ""],
            ["LUIS", "SOTO", "", "", "5 Elm Avenue", "DURHAM", "NC", ""],
        ])
    )  # fmt: skip
    assert (job.rows_created, job.rows_updated) == (0, 2)
    assert Person.objects.count() == 2
    assert Person.objects.get(pk=by_email.pk).given_name == "Ana María"
    assert Person.objects.get(pk=by_address.pk).household_id == home.pk


def test_a_shared_phone_does_not_merge_two_people(run_file, admin, tree):
    """A mother and her son share a phone: a row for him matches neither her record nor her
    name; he is a new person with the same phone, and her name is unchanged."""
    mother = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Rosa", family_name="Díaz",
        phones=[PhoneInput(number="+19195550142")],
    )  # fmt: skip
    job = run_file(_csv([["Kevin", "Morales", "", "+1 919 555 0142", "", "", "", ""]]))
    assert (job.rows_created, job.rows_updated) == (1, 0)
    assert Person.objects.get(pk=mother.pk).given_name == "Rosa"
    son = Person.objects.exclude(pk=mother.pk).get()
    assert son.given_name == "Kevin" and son.phones.count() == 1


def test_a_phone_match_with_the_same_family_name_updates(run_file, admin, tree):
    """A shared contact with an agreeing name (here the family name) is the same person:
    the file's corrected given name is kept, no one is added."""
    stored = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Jon", family_name="Pérez",
        phones=[PhoneInput(number="+19195550143")],
    )  # fmt: skip
    job = run_file(_csv([["John", "Perez", "", "919-555-0143", "", "", "", ""]]))
    assert (job.rows_created, job.rows_updated) == (0, 1)
    assert Person.objects.get(pk=stored.pk).given_name == "John"


def test_repeated_rows_of_one_file_make_one_person(run_file):
    """The same person twice in one file (same email, or same name at the same address) is
    one person; two people sharing a phone in one file stay two."""
    job = run_file(
        _csv([
            ["Ana", "Ruiz", "ana@example.org", "", "", "", "", ""],
            ["Ana", "Ruiz", "ANA@example.org", "9195550150", "", "", "", ""],
            ["Luis", "Soto", "", "", "5 Elm Ave", "Durham", "NC", ""],
            ["LUIS", "SOTO", "", "", "5 Elm Avenue", "Durham", "NC", ""],
            ["Rosa", "Díaz", "", "9195550160", "", "", "", ""],
            ["Kevin", "Morales", "", "9195550160", "", "", "", ""],
        ])
    )  # fmt: skip
    assert job.state == ImportJob.State.DONE
    names = sorted(Person.objects.values_list("given_name", flat=True))
    assert names == ["Ana", "Kevin", "Luis", "Rosa"]
    ana = Person.objects.get(given_name="Ana")
    assert ana.emails.count() == 1 and ana.phones.count() == 1
    assert Phone.objects.count() == 3


def test_people_in_another_unit_are_not_matched(run_file, admin, tree):
    """Matching stays inside the unit: a person of another committee is not touched."""
    other = people_services.person_create(
        actor=admin, owner_unit=tree.committee_b, given_name="Ana",
        emails=[EmailInput(address="ana@example.org")],
    )  # fmt: skip
    job = run_file(_csv([["Ana", "Ruiz", "ana@example.org", "", "", "", "", ""]]))
    assert job.rows_created == 1
    assert Person.objects.count() == 2
    assert not PersonUnit.objects.filter(person=other, unit=tree.committee_a).exists()


def test_no_plaintext_contacts_in_the_database(run_file):
    """After an import no table holds an email or phone in plain text."""
    run_file(_csv([["Ana", "Ruiz", "ana.ruiz@example.org", "(919) 555-0134", "", "", "", ""]]))
    email, phone = Email.objects.get(), Phone.objects.get()
    assert email.address == "ana.ruiz@example.org" and phone.number == "+19195550134"
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump = repr(cursor.fetchall())
            assert "ana.ruiz@example.org" not in dump, table
            assert "5550134" not in dump, table


def test_no_consent_unless_the_file_says_so(run_file):
    """Without a consent column nothing is subscribed or opted in."""
    run_file(_csv([["Ana", "Ruiz", "ana@example.org", "919-555-0134", "", "", "", ""]]))
    assert Email.objects.get().status == Email.Status.NONE
    assert Email.objects.get().consent_at is None
    assert Phone.objects.get().sms_status == Phone.SMSStatus.NONE


def test_explicit_consent_column_is_recorded(run_file):
    header = ["first_name", "last_name", "email", "can2_phone", "can2_subscription_status",
              "can2_sms_status"]  # fmt: skip
    data = _csv([["Ana", "Ruiz", "ana@example.org", "919-555-0134", "subscribed", "opted_in"]],
                header)  # fmt: skip
    run_file(data, preset="actionnetwork")
    assert Email.objects.get().status == Email.Status.SUBSCRIBED
    assert Phone.objects.get().sms_status == Phone.SMSStatus.OPTED_IN


def test_opt_out_is_never_lifted(run_file, admin, tree):
    """A file saying “subscribed” does not undo an unsubscribe or an SMS opt-out."""
    person = people_services.person_create(
        actor=admin, owner_unit=tree.committee_a, given_name="Ana", family_name="Ruiz",
        emails=[EmailInput(address="ana@example.org", status=Email.Status.UNSUBSCRIBED)],
        phones=[PhoneInput(number="919-555-0134", sms_status=Phone.SMSStatus.OPTED_OUT)],
    )  # fmt: skip
    header = ["first_name", "last_name", "email", "can2_phone", "can2_subscription_status",
              "can2_sms_status"]  # fmt: skip
    data = _csv([["Ana", "Ruiz", "ana@example.org", "919-555-0134", "subscribed", "opted_in"]],
                header)  # fmt: skip
    job = run_file(data, preset="actionnetwork")
    assert job.rows_updated == 1
    assert person.emails.get().status == Email.Status.UNSUBSCRIBED
    assert person.phones.get().sms_status == Phone.SMSStatus.OPTED_OUT


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(run_file):
    job = run_file(
        _csv([["Ana", "Ruiz", "", "", "", "", "", ""], ["", "NoGiven", "", "", "", "", "", ""]]),
        mode="all",
    )
    assert job.state == ImportJob.State.FAILED
    assert Person.objects.count() == 0
    assert job.rows_rejected == 1 and "nothing was imported" in job.error


def test_reject_file_lists_every_reject_and_neutralizes_formulas(run_file):
    """Each rejected row is in the reject file with row, column and reason; a cell starting
    with =, +, -, @, tab or CR is prefixed with a quote."""
    rows = [
        ['=HYPERLINK("http://x")', "Ruiz", "not-an-email", "", "", "", "", ""],
        ["", "+SUM(A1)", "", "", "", "", "", ""],
        ["Ana", "@cmd", "", "-1", "", "", "", ""],
        ["Luz", "Ok", "", "", "", "", "", ""],
    ]
    job = run_file(_csv(rows))
    assert job.rows_created == 1 and job.rows_rejected == 3
    out = io.StringIO()
    services.reject_csv(job=job, out=out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0][-3:] == ["_row", "_column", "_reason"]
    body = lines[1:]
    assert {line[-3] for line in body} == {"1", "2", "3"}
    cells = [cell for line in body for cell in line]
    assert '\'=HYPERLINK("http://x")' in cells and "'+SUM(A1)" in cells
    assert "'@cmd" in cells and "'-1" in cells
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)


def test_rejects_are_encrypted_and_deleted_with_the_job(run_file, coordinator):
    job = run_file(_csv([["", "Secretname", "", "", "", "", "", ""]]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_row FROM imports_importreject")
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1:") and "Secretname" not in raw
    services.job_delete(actor=coordinator, job=job)
    assert not ImportReject.objects.exists()


def test_cancel_before_run_and_resume(upload, coordinator, django_capture_on_commit_callbacks):
    """A cancelled import writes nothing more; resuming continues and finishes."""
    job = upload(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]]))
    resolved = services.resolve_mapping(job=job, preset="generic")
    services.job_set_mapping(actor=coordinator, job=job, columns=resolved["columns"])
    job = services.job_cancel(actor=coordinator, job=job)
    assert job.state == ImportJob.State.CANCELLED
    assert Person.objects.count() == 0
    with pytest.raises(ValidationError):
        services.job_start(actor=coordinator, job=job)  # cancelled: resume instead
    with django_capture_on_commit_callbacks(execute=True):
        services.job_resume(actor=coordinator, job=job)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Person.objects.count() == 1


def test_cancel_while_running_stops_after_the_batch(upload, coordinator, monkeypatch):
    """A cancel requested while running stops at the next batch boundary; the committed
    batches stay whole and a resume finishes the rest exactly once."""
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    rows = [[f"P{i}", "X", "", "", "", "", "", ""] for i in range(6)]
    job = upload(_csv(rows))
    resolved = services.resolve_mapping(job=job, preset="generic")
    services.job_set_mapping(actor=coordinator, job=job, columns=resolved["columns"])
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    original = services._Writer.write
    calls = []

    def write_then_cancel(self, records):
        calls.append(len(records))
        result = original(self, records)
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        return result

    monkeypatch.setattr(services._Writer, "write", write_then_cancel)
    job = services.job_run(job_id=job.pk)
    assert job.state == ImportJob.State.CANCELLED
    assert (job.checkpoint_row, Person.objects.count()) == (2, 2)
    monkeypatch.setattr(services._Writer, "write", original)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED, cancel_requested=False)
    job = services.job_run(job_id=job.pk)
    assert job.state == ImportJob.State.DONE
    assert sorted(Person.objects.values_list("given_name", flat=True)) == [
        f"P{i}" for i in range(6)
    ]


def test_outsider_cannot_import_into_another_unit(upload, outsider):
    with pytest.raises(ValidationError):
        upload(b"a,b\n1,2\n", actor=outsider)


def test_saved_mapping_is_reusable(upload, coordinator, tree):
    mapping = services.mapping_save(
        actor=coordinator, owner_unit=tree.committee_a, name="Sign-in sheet",
        columns={"given_name": "Nombre", "family_name": "Apellido"},
    )  # fmt: skip
    job = upload("Nombre,Apellido\nJosé,Peña\n".encode())
    resolved = services.resolve_mapping(job=job, saved=mapping)
    assert resolved["columns"] == {"given_name": "Nombre", "family_name": "Apellido"}


def test_cancel_of_a_crashed_import_lets_it_resume(upload, coordinator):
    """A running import whose worker died (no batch for minutes) is stopped by a cancel and
    offered for resume; a live one only gets the request."""
    import datetime

    from django.utils import timezone

    job = upload(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]]))
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING)
    job.refresh_from_db()
    assert services.job_cancel(actor=coordinator, job=job).state == ImportJob.State.RUNNING
    ImportJob.objects.filter(pk=job.pk).update(
        modified_at=timezone.now() - datetime.timedelta(minutes=10)
    )
    job.refresh_from_db()
    assert services.job_cancel(actor=coordinator, job=job).state == ImportJob.State.CANCELLED


def test_codes_from_boundaries_when_the_file_has_coordinates_only(run_file):
    """A row with coordinates and no precinct code gets its household's codes from the
    precinct boundaries; a row that carries codes keeps them."""
    import json

    from leaven.geo.models import Jurisdiction

    square = [[-87.7, 41.8], [-87.6, 41.8], [-87.6, 41.9], [-87.7, 41.9], [-87.7, 41.8]]
    Jurisdiction.objects.create(
        kind=Jurisdiction.Kind.PRECINCT, code="P7", name="Precinct 7",
        boundary=json.dumps({"type": "Polygon", "coordinates": [square]}),
        min_lat=41.8, min_lon=-87.7, max_lat=41.9, max_lon=-87.6,
    )  # fmt: skip
    header = ["given_name", "street", "city", "state", "latitude", "longitude", "precinct_code"]
    job = run_file(
        _csv(
            [
                ["Ana", "1 Main St", "Chicago", "IL", "41.85", "-87.65", ""],
                ["Luis", "9 Elm St", "Chicago", "IL", "41.85", "-87.65", "FROMFILE"],
            ],
            header,
        )
    )
    assert job.rows_created == 2
    codes = dict(Household.objects.values_list("street", "precinct_code"))
    assert codes == {"1 Main St": "P7", "9 Elm St": "FROMFILE"}


def test_known_household_codes_change_only_when_the_file_differs(run_file):
    """A later file with a new precinct code updates the household it already made; a file
    with the same codes leaves the household untouched."""
    row = nc_row(
        voter_reg_num="1", first_name="ROSA", last_name="LEE", state_cd="NC",
        res_street_address="7 PINE ST", res_city_desc="DURHAM", zip_code="27701",
        precinct_abbrv="DU01",
    )  # fmt: skip
    run_file(nc_file([row]), preset="ncvoter", name="nc.txt")
    household = Household.objects.get()
    other = nc_row(
        voter_reg_num="2", first_name="ANA", last_name="LEE", state_cd="NC",
        res_street_address="7 Pine Street", res_city_desc="Durham", zip_code="27701",
        precinct_abbrv="DU01",
    )  # fmt: skip
    run_file(nc_file([other]), preset="ncvoter", name="nc-2.txt")
    same = Household.objects.get()
    assert same.modified_at == household.modified_at
    assert Person.objects.filter(household=same).count() == 2
    moved = list(other)
    moved[moved.index("DU01")] = "DU07"
    run_file(nc_file([moved]), preset="ncvoter", name="nc-3.txt")
    changed = Household.objects.get()
    assert changed.precinct_code == "DU07"
    assert changed.modified_at > household.modified_at


def test_bad_bytes_after_some_batches_fail_the_import_clearly(upload, coordinator, monkeypatch):
    """A byte the chosen encoding cannot read, met after some batches were committed, fails
    the import with a clear message; the committed batches stay whole."""
    monkeypatch.setattr(services, "BATCH_ROWS", 500)
    rows = [[f"Person{i}", "Example", "", "", "", "", "", ""] for i in range(3000)]
    data = _csv(rows) + b"Bad\xff,Row,,,,,,\n"
    job = upload(data)
    ImportJob.objects.filter(pk=job.pk).update(encoding="utf-8", encoding_confirmed=True)
    job.refresh_from_db()
    resolved = services.resolve_mapping(job=job, preset="generic")
    services.job_set_mapping(actor=coordinator, job=job, columns=resolved["columns"])
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
    job = services.job_run(job_id=job.pk)
    assert job.state == ImportJob.State.FAILED
    assert "encoding" in job.error
    assert 0 < job.checkpoint_row == Person.objects.count() < 3000


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        return services._present_indexes(cursor)


def test_bulk_load_drops_and_rebuilds_secondary_indexes(run_file, monkeypatch):
    """A large load on SQLite writes the people tables without their secondary indexes
    (never a unique one, never one its own lookups read) and rebuilds every one of them
    when it ends; the rows are the same as with the indexes in place. PostgreSQL keeps its
    indexes (its bulk path is COPY)."""
    monkeypatch.setattr(services, "BULK_ROWS", 1)
    droppable = {name for _table, name, _sql in services._bulk_statements()}
    assert "person_sort_idx" in droppable and "voter_precinct_idx" in droppable
    assert not any("household_id" in sql for _t, _n, sql in services._bulk_statements())
    assert "person_home_idx" not in droppable  # residents are looked up through it
    seen: list[set[str]] = []
    write = services._Writer.write

    def spy(self, records):
        seen.append(_index_names())
        return write(self, records)

    monkeypatch.setattr(services._Writer, "write", spy)
    rows = [
        nc_row(voter_reg_num=str(n), first_name="JOSÉ", last_name=f"MUÑOZ{n}", state_cd="NC",
               res_street_address=f"{n % 2} OAK ST", res_city_desc="DURHAM", zip_code="27701",
               precinct_abbrv="DU01")
        for n in range(1, 6)
    ]  # fmt: skip
    job = run_file(nc_file(rows), preset="ncvoter", name="nc.txt")
    assert job.state == ImportJob.State.DONE and job.rows_created == 5
    assert Person.objects.count() == VoterRecord.objects.count() == 5
    assert Household.objects.count() == 2
    assert droppable <= _index_names()
    if connection.vendor == "sqlite":
        assert seen and not (droppable & seen[0])
    else:
        assert seen and droppable <= seen[0]


def test_residents_are_looked_up_from_the_index_alone():
    """The loader's lookup of residents by household reads only the (household, sort name)
    index, never the people table itself (whose rows are scattered over a large file)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT household_id, sort_name, id FROM people_person "
                "WHERE household_id IN (1, 2)"
            )
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "COVERING INDEX person_home_idx" in plan
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'person_home_idx'")
            assert "(household_id, sort_name)" in cursor.fetchone()[0]


def test_small_load_keeps_its_indexes(run_file, monkeypatch):
    """Below the bulk threshold nothing is dropped."""
    droppable = {name for _table, name, _sql in services._bulk_statements()}
    seen: list[set[str]] = []
    write = services._Writer.write

    def spy(self, records):
        seen.append(_index_names())
        return write(self, records)

    monkeypatch.setattr(services._Writer, "write", spy)
    run_file(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]]))
    assert seen and droppable <= seen[0]


def test_indexes_a_killed_bulk_load_left_out_are_rebuilt_by_the_next_run(run_file):
    """If a bulk load was killed before it could rebuild its indexes, the next import that
    runs rebuilds them first."""
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX person_sort_idx")
    assert "person_sort_idx" not in _index_names()
    run_file(_csv([["Ana", "Ruiz", "", "", "", "", "", ""]]))
    assert "person_sort_idx" in _index_names()


def test_rows_are_written_many_per_statement_with_their_shared_values(run_file, monkeypatch):
    """Rows go in several to a statement (batches that do not divide evenly too), and every
    row gets the values shared by the batch: unit, source, stage, timestamps."""
    monkeypatch.setattr(services, "INSERT_ROWS", 3)
    rows = [[f"P{i}", "Ruiz", "", f"919555{i:04d}", f"{i} Oak St", "Durham", "NC", "27701"]
            for i in range(10)]  # fmt: skip
    job = run_file(_csv(rows))
    assert job.rows_created == 10
    source = f"import:{job.pk}"
    people = Person.objects.filter(source=source, stage="unknown", owner_unit=job.owner_unit)
    assert sorted(people.values_list("given_name", flat=True)) == sorted(f"P{i}" for i in range(10))
    assert all(p.created_at and p.modified_at and p.custom_fields == {} for p in people)
    assert PersonUnit.objects.filter(unit=job.owner_unit).count() == 10
    assert Household.objects.filter(owner_unit=job.owner_unit).count() == 10
    phones = Phone.objects.filter(source=source, kind=Phone.Kind.OTHER, urgent_alerts=False)
    assert phones.count() == 10
    assert all(p.sms_status == Phone.SMSStatus.NONE for p in phones)


def _stored(unit) -> list[tuple[object, ...]]:
    """What an import stored for a unit, without ids, sealed values or timestamps."""
    out = []
    for p in Person.objects.filter(owner_unit=unit).select_related("household"):
        voter = VoterRecord.objects.filter(person=p).first()
        out.append(
            (
                p.given_name, p.family_name, p.sort_name, p.given_sort, p.language,
                p.household.address_key if p.household else "",
                p.household.precinct_code if p.household else "",
                sorted((ph.number, ph.sms_status, ph.is_primary) for ph in p.phones.all()),
                (voter.registration_number, voter.party, voter.registration_date,
                 voter.birth_year, voter.precinct_code) if voter else None,
            )
        )  # fmt: skip
    return sorted(out, key=repr)


def test_an_import_read_in_a_second_process_stores_the_same(tree, monkeypatch):
    """The same voter file read in the writing process and in a second process stores the
    same people, households, phones and voter records (repeated rows merged alike)."""
    from leaven.imports import worker

    rows = [
        nc_row(voter_reg_num=str(n % 40), first_name=("JOSÉ", "ANA", "LUIS")[n % 3],
               last_name=("MUÑOZ", "PEÑA")[n % 2], res_street_address=f"{n % 17} OAK ST",
               res_city_desc="DURHAM", state_cd="NC", zip_code="27701",
               full_phone_number="" if n % 4 else f"919555{n % 30:04d}",
               registr_dt="03/15/2004", birth_year="1980", precinct_abbrv=f"DU{n % 3}",
               party_cd="DEM")
        for n in range(60)
    ]  # fmt: skip
    monkeypatch.setattr(services, "BATCH_ROWS", 7)
    for unit, threshold in ((tree.committee_a, 10**9), (tree.committee_b, 0)):
        monkeypatch.setattr(worker, "WORKER_ROWS", threshold)
        job = services.job_upload(
            actor=services.OPERATOR, owner_unit=unit, file_name="nc.txt",
            stream=io.BytesIO(nc_file(rows)),
        )  # fmt: skip
        resolved = services.resolve_mapping(job=job, preset="ncvoter")
        services.job_set_mapping(
            actor=services.OPERATOR, job=job, columns=resolved["columns"],
            constants=resolved["constants"],
        )  # fmt: skip
        ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.QUEUED)
        job = services.job_run(job_id=job.pk)
        assert job.state == ImportJob.State.DONE and job.rows_created == 40
    inline, forked = _stored(tree.committee_a), _stored(tree.committee_b)
    assert len(inline) == 40 and forked == inline


def test_planner_statistics_are_refreshed_early_in_a_load(run_file, monkeypatch):
    """After the first batch (and the 4th, 16th, 64th) the tables written get fresh planner
    statistics on PostgreSQL, so that a first load into empty tables is not planned as if
    they stayed empty; on SQLite there is nothing to refresh."""
    monkeypatch.setattr(services, "BATCH_ROWS", 2)
    calls: list[int] = []
    analyze = services._analyze

    def spy():
        calls.append(VoterRecord.objects.count())
        analyze()

    monkeypatch.setattr(services, "_analyze", spy)
    rows = [
        nc_row(voter_reg_num=str(n), first_name="ANA", last_name=f"RUIZ{n}", state_cd="NC",
               res_street_address=f"{n} OAK ST", res_city_desc="DURHAM", zip_code="27701")
        for n in range(1, 10)
    ]  # fmt: skip
    job = run_file(nc_file(rows), preset="ncvoter", name="nc.txt")
    assert job.state == ImportJob.State.DONE and job.rows_created == 9
    assert calls == [2, 8]  # after batches 1 and 4 of 5
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'geo_voterrecord'")
            assert cursor.fetchone()[0] == 8
