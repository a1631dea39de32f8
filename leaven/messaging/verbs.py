from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "segment.created": _("segment created"),
        "segment.updated": _("segment changed"),
        "broadcast.created": _("broadcast drafted"),
        "broadcast.updated": _("broadcast edited"),
        "broadcast.test_sent": _("test message sent"),
        "broadcast.scheduled": _("broadcast scheduled"),
        "broadcast.queued": _("broadcast sent"),
        "broadcast.cancelled": _("broadcast cancelled"),
        "outbox.queued": _("message queued"),
        "outbox.delivery_status": _("delivery status received"),
        "email.provider_event": _("email provider report received"),
        "sms.reply": _("text received"),
        "sms.answer": _("answer to an alert received by text"),
        "sms.opt_out": _("texts stopped (STOP)"),
        "sms.opt_in": _("texts restarted (START)"),
        "sms.help": _("help requested by text"),
        "sms.review": _("text needs review"),
        "sms.replied": _("text answered"),
        "sms.reviewed": _("text reviewed"),
        "messaging.purged": _("old message texts cleared"),
    }
)
