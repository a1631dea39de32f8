"""Normalization of names, contact points and addresses, shared by pages, imports and the API."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def fold(text: str) -> str:
    """Case- and accent-insensitive key: "Muñoz" and "MUNOZ" fold alike."""
    # Case-fold after the compatibility decomposition: "𝑨" decomposes to "A", which must fold.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("ø", "o").replace("ł", "l")
    return re.sub(r"\s+", " ", stripped).strip()


def sort_key(family_name: str, given_name: str) -> str:
    return f"{fold(family_name)}\x1f{fold(given_name)}"[:200]


def email_normalize(address: str) -> str:
    """A valid address, lower-cased; ValidationError with a clear message otherwise."""
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(_("Enter a valid email address.")) from exc
    return str(result.normalized).lower()


def phone_normalize(number: str, region: str = "US") -> str:
    """E.164 form (+13125550123); ValidationError with a clear message otherwise."""
    try:
        parsed = phonenumbers.parse(number.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a valid phone number.")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(_("Enter a valid phone number."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "parkway": "pkwy",
    "highway": "hwy",
    "circle": "cir",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "apartment": "apt",
    "unit": "apt",
    "suite": "ste",
    "#": "apt",
}


def address_key(street: str, unit: str, city: str, state: str, zip_code: str) -> str:
    """One key per dwelling: case, punctuation and street-word spellings folded."""

    def words(text: str) -> list[str]:
        text = fold(text).replace("#", " # ")
        return [STREET_WORDS.get(w, w) for w in re.findall(r"[a-z0-9#]+", text)]

    street_words = words(street)
    unit_words = [w for w in words(unit) if w not in {"apt", "ste"}]
    # "123 Main St Apt 4" with no separate unit: the apartment is the same dwelling as
    # "123 Main St" with unit "4".
    if not unit_words and len(street_words) > 2 and street_words[-2] in {"apt", "ste"}:
        street_words, unit_words = street_words[:-2], street_words[-1:]
    parts = [
        " ".join(street_words),
        " ".join(unit_words),
        " ".join(words(city)),
        fold(state)[:2],
        re.sub(r"\D", "", zip_code)[:5],
    ]
    return "|".join(parts)[:255]
