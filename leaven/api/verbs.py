from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "apikey.created": _("API key created"),
        "apikey.revoked": _("API key revoked"),
        "api.people_read": _("people read through the API"),
        "api.people_read_capped": _("API key stopped at its daily limit of people read"),
        "webhook.created": _("webhook added"),
        "webhook.enabled": _("webhook turned on"),
        "webhook.disabled": _("webhook turned off"),
        "webhook.auto_disabled": _("webhook turned off after failed deliveries"),
    }
)
