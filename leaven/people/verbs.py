from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "person.created": _("person added"),
        "person.updated": _("person edited"),
        "person.stage_changed": _("stage changed"),
        "person.tagged": _("tag added"),
        "person.untagged": _("tag removed"),
        "person.viewed": _("record viewed"),
        "email.added": _("email added"),
        "email.updated": _("email changed"),
        "email.removed": _("email removed"),
        "phone.added": _("phone added"),
        "phone.updated": _("phone changed"),
        "phone.removed": _("phone removed"),
        "note.created": _("note added"),
        "person.joined_unit": _("joined a unit"),
        "person.left_unit": _("left a unit"),
        "person.household_changed": _("address changed"),
        "household.created": _("household added"),
        "relationship.created": _("relationship added"),
        "relationship.deleted": _("relationship removed"),
        "tag.created": _("tag created"),
        "partner.created": _("partner organization added"),
        "affiliation.created": _("partner organization linked"),
        "custom_field.created": _("custom field added"),
        "email.bouncing": _("email bouncing"),
        "email.consent_given": _("email consent given"),
        "email.unsubscribed": _("email unsubscribed"),
        "phone.sms_consent": _("text consent changed"),
    }
)
