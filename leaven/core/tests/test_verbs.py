"""Every audit verb the code writes has words for people to read, in English and Spanish."""

import re
from pathlib import Path

from django.utils import translation

from leaven.core.verbs import labels, verb_label

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r'verb="([a-z_]+\.[a-z_.]+)"')


def _verbs_in_code() -> set[str]:
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        found.update(LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_audited_verb_has_words() -> None:
    """A verb written by the code but missing from every app's verbs module fails here."""
    verbs = _verbs_in_code()
    assert "person.created" in verbs
    missing = sorted(verbs - set(labels()))
    assert missing == []


def test_inbound_text_kinds_have_words() -> None:
    """Inbound texts are audited as sms.<kind>; each kind has words."""
    from leaven.messaging.models import InboundMessage

    for kind in InboundMessage.Kind.values:
        assert f"sms.{kind}" in labels()


def test_label_is_translated() -> None:
    """The words follow the reader's language; an unknown code is shown as it is."""
    with translation.override("es"):
        assert verb_label("person.created") != "person added"
        assert verb_label("no.such_verb") == "no.such_verb"
    with translation.override("en"):
        assert verb_label("person.created") == "person added"
