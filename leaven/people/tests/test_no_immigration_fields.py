"""Collect less: no model anywhere (outside the encrypted case file) has a field for
immigration status, an A-number, a visa, a country of birth or citizenship."""

from __future__ import annotations

import re

from django.apps import apps

FORBIDDEN = re.compile(
    r"immigration|migratori|a_number|a-number|alien|visa|country_of_birth|birth_country"
    r"|country of birth|citizenship|status_migratorio",
    re.IGNORECASE,
)


def _offending_fields():
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "cases":
            continue
        for field in model._meta.get_fields():
            texts = [field.name, str(getattr(field, "verbose_name", "") or "")]
            texts.append(getattr(field, "db_column", None) or "")
            if any(FORBIDDEN.search(text) for text in texts):
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_pattern_catches_what_it_should():
    """The pattern itself recognizes the names it is meant to forbid."""
    for name in [
        "immigration_status",
        "Estatus migratorio",
        "a_number",
        "alien_number",
        "visa_type",
        "country_of_birth",
        "birth_country",
        "citizenship",
    ]:
        assert FORBIDDEN.search(name), name
    for name in ["given_name", "language", "sms_status", "household", "precinct_code"]:
        assert not FORBIDDEN.search(name), name


def test_no_immigration_fields_outside_cases():
    """No installed model outside the `cases` app has such a field, by name or label."""
    assert _offending_fields() == []


def test_every_installed_model_was_checked():
    """The check sees the people models (so an empty result means something)."""
    labels = {model._meta.label for model in apps.get_models()}
    assert {"people.Person", "people.Household", "people.Email", "core.User"} <= labels
