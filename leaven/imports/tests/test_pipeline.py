"""The pipeline's fast paths give exactly the answers of leaven.people.normalize."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leaven.imports import pipeline
from leaven.people import normalize

TRICKY = [
    "",
    " ",
    "  Main  St ",
    "O'BRIEN",
    "van der  Berg",
    "A\x1fB",
    "tab\tand\nnewline\x0b\x0c\r",
    "#4",
    "123 Main Street Apt 4",
    "123 MAIN ST #12",
    "PO Box 7",
    "Suite 100",
    "Muñoz",
    "NGUYỄN",
    "Đức",
    "ﬁne",
    "𝑨lex",
    "straße",
]
TEXT = st.text(alphabet=st.sampled_from(list("aZ09 #-.\t\x1f'éÑứ𝑨ß,/")), max_size=30)


def test_fold_matches_normalize_on_tricky_text():
    """Whitespace of every kind, separators, accents and ligatures fold alike both ways."""
    for text in TRICKY:
        assert pipeline.fold(text) == normalize.fold(text)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_sort_key_matches_normalize(family, given_name):
    """The import's sort keys equal the ones the people services store."""
    assert pipeline.sort_key(family, given_name) == normalize.sort_key(family, given_name)


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, TEXT, TEXT, TEXT)
def test_address_key_matches_normalize(street, unit, city, state, zip_code):
    """The import's address keys (households) equal normalize.address_key's."""
    assert pipeline.address_key(street, unit, city, state, zip_code) == normalize.address_key(
        street, unit, city, state, zip_code
    )


def test_address_key_matches_normalize_on_tricky_addresses():
    """Apartments in the street line, '#', street words and spacing are folded alike."""
    for street in TRICKY:
        for unit in ("", "Apt 4", "#4", "unit 2B", "Suite 100"):
            args = (street, unit, "Durham ", "nc", "27701-1234")
            assert pipeline.address_key(*args) == normalize.address_key(*args)


def test_phone_fast_path_matches_phonenumbers():
    """Plain US numbers and odd ones are normalized as phone_normalize does, or refused."""
    cleaner = pipeline.Cleaner(["first_name", "phone"], {"given_name": "first_name"}, {})
    for raw in (
        "(919) 555-0123",
        "919.555.0123",
        "+1 919 555 0123",
        "19195550123",
        "9195550123",
        "919555012",
        "+44 20 7946 0958",
        "919 555 0123 x12",
        "٩١٩٥٥٥٠١٢٣",
        "----",
        "1234567890",
        "+43 1 2345678",  # Vienna: ten digits with its country code, not a US number
        "+53 5 123 4567",  # a Cuban mobile
        "+52 55 1234 5678",
    ):
        try:
            expected: str | None = normalize.phone_normalize(raw)
        except Exception:  # noqa: BLE001
            expected = None
        assert cleaner._phone(raw) == expected, raw


def test_phone_cache_never_answers_for_a_different_number():
    """A short raw value that spells a valid number's area code and exchange is refused,
    even right after that number was read (the cache keys never overlap)."""
    cleaner = pipeline.Cleaner(["first_name", "phone"], {"given_name": "first_name"}, {})
    assert cleaner._phone("9195550123") == "+19195550123"
    assert cleaner._phone("919555") is None
    assert cleaner._phone("(919) 555-0199") == "+19195550199"
    assert cleaner._phone("919555") is None


def test_clean_strips_and_composes_mapped_values_and_keeps_constants_as_given():
    """Mapped values are stripped and NFC; a constant fills only a field the file does not
    map, exactly as given; a mapped empty value stays empty."""
    header = ["first_name", "last_name", "city", "reg"]
    cleaner = pipeline.Cleaner(
        header,
        {"given_name": "first_name", "family_name": "last_name", "city": "city",
         "registration_number": "reg"},
        {"voter_state": "nc", "city": "Ignored", "language": " es "},
    )  # fmt: skip
    record = cleaner.clean(1, ["  Jose\u0301 ", "Pen\u0303a", "", " 42 "])
    assert isinstance(record, pipeline.Record)
    assert (record.given_name, record.family_name) == ("José", "Peña")
    assert (record.city, record.registration_number, record.voter_state) == ("", "42", "NC")
    assert record.language == " es "


def test_clean_lists_garbled_columns_in_the_mapping_order():
    """Every garbled column is named, in the order of the mapping."""
    header = ["a", "b"]
    cleaner = pipeline.Cleaner(header, {"family_name": "b", "given_name": "a"}, {})
    problems = cleaner.clean(3, ["JosÃ©", "PeÃ±a"])
    assert isinstance(problems, list)
    assert [(p.row, p.column) for p in problems] == [(3, "b"), (3, "a")]


def test_preparer_computes_the_keys_the_people_services_store():
    """Sort keys are normalize's; blind indexes are crypto's; sealed values open to the
    clean email and phone."""
    from leaven.core.crypto import blind_index, decrypt

    header = ["given_name", "family_name", "email", "phone"]
    cleaner = pipeline.Cleaner(header, {h: h for h in header}, {})
    preparer = pipeline.Preparer(cleaner)
    rows = [(1, ["Thảo", "Nguyễn", "Ana@Example.org", "(919) 555-0123"]), (2, ["", "X", "", ""])]
    ready, problems = preparer.batch(rows)
    assert [p.row for row, _fields in problems for p in row] == [2]
    r = pipeline.Ready._make(ready[0])
    assert r.sort_name == normalize.sort_key("Nguyễn", "Thảo")
    assert r.given_sort == normalize.fold("Thảo")
    assert (r.email, r.phone) == ("ana@example.org", "+19195550123")
    assert r.email_index == blind_index("ana@example.org")
    assert r.phone_index == blind_index("+19195550123")
    assert decrypt(r.email_sealed) == r.email and decrypt(r.phone_sealed) == r.phone
    assert preparer.batch(rows, prepare=False)[0] == []
