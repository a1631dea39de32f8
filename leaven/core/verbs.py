"""Words for audit verbs. Each app lists its own in a `verbs.py` module that calls
`register`; the audit pages show the words, in the reader's language, instead of the codes."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

_LABELS: dict[str, str | Promise] = {}
_discovered = False


def register(labels: Mapping[str, str | Promise]) -> None:
    _LABELS.update(labels)


def labels() -> dict[str, str | Promise]:
    """Every registered verb and its words, after each app's `verbs` module is loaded."""
    global _discovered
    if not _discovered:
        autodiscover_modules("verbs")
        _discovered = True
    return dict(_LABELS)


def verb_label(verb: str) -> str:
    """The words for a verb in the active language; the code itself when none is known."""
    label = labels().get(verb)
    return str(label) if label is not None else verb


register(
    {
        "unit.created": _("unit created"),
        "unit.updated": _("unit changed"),
        "role.granted": _("role granted"),
        "role.revoked": _("role revoked"),
        "access.denied": _("access denied"),
        "user.created": _("user created"),
        "user.made_operator": _("user made operator"),
        "keys.rotated": _("encryption keys rotated"),
        "demo.loaded": _("demo data loaded"),
        "tasks.pruned": _("finished background tasks cleared"),
    }
)
