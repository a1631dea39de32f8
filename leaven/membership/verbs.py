from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "membership.created": _("membership started"),
        "membership.status_changed": _("membership status changed"),
        "membership.waiver_approved": _("hardship waiver approved"),
        "membership.join_form": _("joined through the public form"),
        "membership.self_updated": _("member updated their own details"),
        "membership.link_queued": _("membership link sent"),
        "membership.dues_exported": _("dues exported"),
        "membership_goal.set": _("membership goal set"),
        "membership_reminder.sent": _("dues reminder sent"),
        "dues.recorded": _("dues recorded"),
        "dues.reversed": _("dues payment reversed"),
        "tier.created": _("dues tier created"),
    }
)
