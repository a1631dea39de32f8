"""Normalization of names, emails, phones and addresses, shared by pages, imports and the API."""

from __future__ import annotations

import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from leaven.people import normalize


@pytest.mark.parametrize("text", ["Muñoz", "MUNOZ", "munoz", "  Muñoz ", "MUÑOZ", "Mun\u0303oz"])
def test_fold_accents_and_case(text):
    """Muñoz, MUNOZ and their composed or decomposed spellings fold to one key."""
    assert normalize.fold(text) == "munoz"


def test_fold_other_letters_and_spaces():
    """Letters without a combining accent, and runs of spaces, fold too."""
    assert normalize.fold("Łukasz  Đorđević") == "lukasz dordevic"
    assert normalize.fold("Søren\tStraße") == "soren strasse"
    assert normalize.fold("José María") == "jose maria"


def test_nfc_composes_and_strips():
    """A decomposed name is stored composed, without surrounding spaces."""
    decomposed = "  Jose\u0301 "
    assert normalize.nfc(decomposed) == "José"
    assert unicodedata.is_normalized("NFC", normalize.nfc(decomposed))


def test_sort_key_orders_family_then_given():
    """The sort key puts the folded family name first, then the given name."""
    assert normalize.sort_key("Muñoz", "María") == "munoz\x1fmaria"
    assert normalize.sort_key("Abad", "Zoe") < normalize.sort_key("Abad", "Zulema")
    assert normalize.sort_key("Abad", "Zulema") < normalize.sort_key("Ábalos", "Ana")


@given(st.text(max_size=60))
def test_fold_is_idempotent(text):
    """Folding a folded string changes nothing."""
    once = normalize.fold(text)
    assert normalize.fold(once) == once


LETTERS = "abcdefghijklmnopqrstuvwxyzáéíóúüñç ABCDEFGHIJKLMNOPQRSTUVWXYZÁÉÍÓÚÜÑÇ"


@given(st.text(alphabet=LETTERS, max_size=30))
def test_fold_ignores_case_and_accents(text):
    """Upper case, lower case and unaccented spellings of a Spanish name fold alike."""
    folded = normalize.fold(text)
    assert normalize.fold(text.upper()) == folded
    assert normalize.fold(text.lower()) == folded
    assert folded.isascii()


@given(st.text(max_size=40))
def test_fold_ignores_composition(text):
    """Composed and decomposed spellings fold alike."""
    assert normalize.fold(unicodedata.normalize("NFD", text)) == normalize.fold(
        unicodedata.normalize("NFC", text)
    )


# Emails


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ana@Example.ORG", "ana@example.org"),
        ("  ana.lopez@example.org ", "ana.lopez@example.org"),
        ("ANA+bus@example.org", "ana+bus@example.org"),
    ],
)
def test_email_normalize(raw, expected):
    """A valid address is trimmed and lower-cased."""
    assert normalize.email_normalize(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "ana", "ana@", "@example.org", "ana@@example.org", "ana example@x.org", "ana@x"]
)
def test_email_normalize_errors(raw):
    """An invalid address raises a ValidationError with a clear message."""
    with pytest.raises(ValidationError) as excinfo:
        normalize.email_normalize(raw)
    assert excinfo.value.messages == ["Enter a valid email address."]


# Phones


@pytest.mark.parametrize(
    "raw",
    [
        "(312) 555-0123",
        "312-555-0123",
        "312.555.0123",
        "3125550123",
        "+1 312 555 0123",
        "1-312-555-0123",
    ],
)
def test_phone_normalize_us_formats(raw):
    """Every common way of writing a US number gives one E.164 form."""
    assert normalize.phone_normalize(raw) == "+13125550123"


def test_phone_normalize_international():
    """A number with a country code keeps it."""
    assert normalize.phone_normalize("+52 55 1234 5678") == "+525512345678"
    assert normalize.phone_normalize("55 1234 5678", region="MX") == "+525512345678"


@pytest.mark.parametrize("raw", ["", "12", "hello", "555-0123", "+1 000 000 0000", "(312) 555"])
def test_phone_normalize_errors(raw):
    """Something that is not a valid number raises a ValidationError with a clear message."""
    with pytest.raises(ValidationError) as excinfo:
        normalize.phone_normalize(raw)
    assert excinfo.value.messages == ["Enter a valid phone number."]


def test_phone_display():
    """US numbers display in national form, others in international form."""
    assert normalize.phone_display("+13125550123") == "(312) 555-0123"
    assert normalize.phone_display("+525512345678") == "+52 55 1234 5678"
    assert normalize.phone_display("not a number") == "not a number"


@given(st.integers(min_value=2002000000, max_value=9899999999))
def test_phone_normalize_is_idempotent(n):
    """Normalizing an already normalized number gives it back."""
    try:
        e164 = normalize.phone_normalize(str(n))
    except ValidationError:
        return
    assert normalize.phone_normalize(e164) == e164
    assert normalize.phone_normalize(normalize.phone_display(e164)) == e164


# Addresses


def test_address_key_folds_spellings():
    """ "123 N. Main Street Apt 4" and "123 north main st #4" are one dwelling."""
    one = normalize.address_key("123 N. Main Street Apt 4", "", "Chicago", "IL", "60608")
    two = normalize.address_key("123 north main st #4", "", "chicago", "il", "60608-1234")
    assert one == two


def test_address_key_unit_in_either_field():
    """The apartment may be written in the street line or in the unit field: one dwelling."""
    inline = normalize.address_key("123 N. Main Street Apt 4", "", "Chicago", "IL", "60608")
    apart = normalize.address_key("123 N. Main Street", "Apt 4", "Chicago", "IL", "60608")
    hashed = normalize.address_key("123 north main st", "#4", "CHICAGO", "IL", "60608")
    bare = normalize.address_key("123 North Main St", "4", "Chicago", "IL", "60608")
    assert inline == apart == hashed == bare


def test_address_key_distinguishes_dwellings():
    """Different apartments, streets, cities or ZIP codes are different dwellings."""
    base = normalize.address_key("123 N Main St", "4", "Chicago", "IL", "60608")
    assert base != normalize.address_key("123 N Main St", "5", "Chicago", "IL", "60608")
    assert base != normalize.address_key("125 N Main St", "4", "Chicago", "IL", "60608")
    assert base != normalize.address_key("123 S Main St", "4", "Chicago", "IL", "60608")
    assert base != normalize.address_key("123 N Main St", "4", "Cicero", "IL", "60608")
    assert base != normalize.address_key("123 N Main St", "4", "Chicago", "IL", "60609")


def test_address_key_accents_and_case():
    """Accents and case in street names do not make a second dwelling."""
    assert normalize.address_key(
        "2400 S. Blue Island Avenue", "", "Chicago", "IL", "60608"
    ) == normalize.address_key("2400 s blue island ave", "", "CHICAGO", "il", "60608")
    assert normalize.address_key("10 Calle Peñón", "", "Laredo", "TX", "") == normalize.address_key(
        "10 CALLE PENON", "", "laredo", "tx", ""
    )


@given(
    st.from_regex(r"[0-9]{1,5} [A-Za-z]{2,12} (St|Street|Ave|Avenue|Rd|Road)", fullmatch=True),
    st.sampled_from(["", "Apt 2", "#2", "Unit 2", "apartment 2"]),
)
def test_address_key_is_stable_under_case(street, unit):
    """Upper- or lower-casing an address never changes its key."""
    key = normalize.address_key(street, unit, "Chicago", "IL", "60608")
    assert normalize.address_key(street.upper(), unit.upper(), "CHICAGO", "il", "60608") == key
    assert normalize.address_key(street.lower(), unit.lower(), "chicago", "IL", "60608") == key
