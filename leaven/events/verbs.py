from django.utils.translation import gettext_lazy as _

from leaven.core.verbs import register

register(
    {
        "event.created": _("event created"),
        "event.status": _("event status changed"),
        "event.updated": _("event changed"),
        "event.shift_added": _("shift added"),
        "event.quota_added": _("seat quota added"),
        "event.vehicle_added": _("vehicle added"),
        "event.waitlist_filled": _("waitlist filled"),
        "event.no_shows_marked": _("no-shows marked"),
        "event.roster_exported": _("roster exported"),
        "event_message.sent": _("event reminder sent"),
        "event_message.no_channel": _("event message not sent: no way to reach the person"),
        "rsvp.added": _("RSVP added"),
        "rsvp.submitted": _("RSVP received"),
        "rsvp.repeated": _("RSVP repeated"),
        "rsvp.cancelled": _("RSVP cancelled"),
        "rsvp.checked_in": _("checked in"),
        "rsvp.walk_in": _("walk-in checked in"),
        "rsvp.vehicle": _("vehicle seat assigned"),
        "quota.seat_filled": _("seat filled"),
        "quota.seat_freed": _("seat freed"),
        "quota.released": _("unfilled seats released"),
        "quota.link_revoked": _("leader link revoked"),
        "quota.link_issued": _("leader link issued"),
    }
)
