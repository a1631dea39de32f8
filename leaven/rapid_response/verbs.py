from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "rapid.reported": _("reported an incident"),
        "rapid.state_changed": _("changed an incident's state"),
        "rapid.legal_hold": _("set or lifted a legal hold on an incident"),
        "rapid.verifiers_asked": _("asked verifiers to check an incident"),
        "rapid.ring_started": _("alerted a ring of responders"),
        "rapid.acknowledged": _("answered an incident alert"),
        "rapid.followup_created": _("handed an incident off to a follow-up"),
        "rapid.followup_done": _("marked a follow-up done"),
        "rapid.responder_saved": _("saved a responder"),
        "rapid.responder_active": _("took a responder off the roster or put them back"),
        "rapid.reporter_viewed": _("read a reporter's contact"),
        "rapid.purged": _("purged old incident data"),
    }
)
