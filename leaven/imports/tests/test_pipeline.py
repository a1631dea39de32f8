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
    ):
        try:
            expected: str | None = normalize.phone_normalize(raw)
        except Exception:  # noqa: BLE001
            expected = None
        assert cleaner._phone(raw) == expected, raw
