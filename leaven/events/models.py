"""Events, their shifts and RSVPs, and mobilizations: seats shared among circles and partners
through quotas, with a shared waitlist and vehicles."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit
from leaven.people.models import PartnerOrganization, Person


class Event(models.Model):
    """A meeting, training or action, owned by one unit. A mobilization is an event with
    seats shared among circles and partners through quotas."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        HOUSE_MEETING = "house_meeting", _("House meeting")
        TRAINING = "training", _("Training")
        CANVASS = "canvass", _("Canvass")
        PHONE_BANK = "phone_bank", _("Phone bank")
        ACTION = "action", _("Action")
        HEARING = "hearing", _("Hearing")
        CONVENING = "convening", _("Convening")
        BUS_TRIP = "bus_trip", _("Bus trip")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: anyone with the link")
        MEMBERS = "members", _("Members: signed-in users of the organization")
        UNIT = "unit", _("Unit: this unit's team only")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="events", verbose_name=_("unit")
    )
    slug = models.SlugField(max_length=90, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_es = models.CharField(_("title (Spanish)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.MEETING)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    co_host_units = models.ManyToManyField(
        OrgUnit, blank=True, related_name="cohosted_events", verbose_name=_("co-hosts")
    )
    partners = models.ManyToManyField(
        PartnerOrganization, blank=True, related_name="events", verbose_name=_("partners")
    )
    address = models.CharField(_("address"), max_length=250, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Chicago")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    # Without shifts: the event's own capacity (0: no limit). A mobilization: its seats.
    capacity = models.PositiveIntegerField(_("capacity or seats"), default=0)
    is_mobilization = models.BooleanField(_("mobilization with seat quotas"), default=False)
    release_at = models.DateTimeField(_("release unused seats at"), null=True, blank=True)
    released = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["owner_unit", "starts_at"], name="event_unit_start_idx")]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title_en

    def title(self, language: str = "en") -> str:
        return self.title_es if language.startswith("es") and self.title_es else self.title_en

    def description(self, language: str = "en") -> str:
        if language.startswith("es") and self.description_es:
            return self.description_es
        return self.description_en


class Shift(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="shifts")
    label_en = models.CharField(_("label (English)"), max_length=120)
    label_es = models.CharField(_("label (Spanish)"), max_length=120, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveIntegerField(_("capacity"), default=0)

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return self.label_en

    def label(self, language: str = "en") -> str:
        return self.label_es if language.startswith("es") and self.label_es else self.label_en


class Quota(models.Model):
    """Seats of a mobilization held for one circle or one partner organization."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="quotas")
    unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        PartnerOrganization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seats = models.PositiveIntegerField(_("seats"))
    released = models.PositiveIntegerField(default=0, editable=False)
    # The leader's signed link carries this version: revoking or re-issuing the link moves it
    # on, so every older link stops working. A revoked link works again only once re-issued.
    link_version = models.PositiveIntegerField(default=1, editable=False)
    link_revoked = models.BooleanField(default=False, editable=False)
    link_issued_at = models.DateTimeField(default=timezone.now, editable=False)
    # The link also stops at the event's end, whichever comes first.
    link_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit__isnull=False, partner__isnull=True)
                | models.Q(unit__isnull=True, partner__isnull=False),
                name="quota_one_holder",
            )
        ]

    def __str__(self) -> str:
        return self.holder_name

    @property
    def holder_name(self) -> str:
        return str(self.unit or self.partner)

    @property
    def held(self) -> int:
        return self.seats - self.released

    @property
    def link_closes_at(self) -> datetime:
        """When the leader's link stops working: the event's end, or earlier if the link
        was issued for fewer days."""
        ends = self.event.ends_at
        return min(ends, self.link_expires_at) if self.link_expires_at else ends


class Vehicle(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="vehicles")
    name = models.CharField(_("name"), max_length=80)
    seats = models.PositiveIntegerField(_("seats"))

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RSVP(models.Model):
    class Status(models.TextChoices):
        GOING = "going", _("Going")
        WAITLIST = "waitlist", _("Waitlist")
        CANCELLED = "cancelled", _("Cancelled")

    class Attendance(models.TextChoices):
        UNKNOWN = "unknown", _("Not checked in")
        ATTENDED = "attended", _("Came")
        NO_SHOW = "no_show", _("No-show")

    class Source(models.TextChoices):
        PUBLIC = "public", _("Public page")
        LEADER = "leader", _("Circle leader")
        WALK_IN = "walk_in", _("Walk-in")
        STAFF = "staff", _("Staff")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    shift = models.ForeignKey(
        Shift, null=True, blank=True, on_delete=models.SET_NULL, related_name="rsvps"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="event_rsvps")
    quota = models.ForeignKey(
        Quota, null=True, blank=True, on_delete=models.SET_NULL, related_name="rsvps"
    )
    vehicle = models.ForeignKey(
        Vehicle, null=True, blank=True, on_delete=models.SET_NULL, related_name="rsvps"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.GOING)
    attendance = models.CharField(
        max_length=10, choices=Attendance.choices, default=Attendance.UNKNOWN
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PUBLIC)
    language = models.CharField(max_length=16, default="en")
    heard_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    heard_partner = models.ForeignKey(
        PartnerOrganization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_new_person = models.BooleanField(default=False)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    # Order on the waitlist: the time of the last move onto it.
    queued_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="unique_event_person")
        ]
        indexes = [models.Index(fields=["event", "status", "queued_at"], name="rsvp_queue_idx")]

    def __str__(self) -> str:
        return f"rsvp {self.pk}"


class EventMessage(models.Model):
    """A confirmation or reminder for a person, in their language. Pending rows whose time
    has come are handed to the messaging outbox (leaven.events.services_messages)."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("Confirmation")
        WAITLIST = "waitlist", _("On the waitlist")
        PROMOTED = "promoted", _("Off the waitlist")
        REMINDER = "reminder", _("Reminder")
        CANCELLED = "cancelled", _("Cancellation")
        UPDATED = "updated", _("New time")
        CALLED_OFF = "called_off", _("Event cancelled")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        # No email or phone that may receive it: never retried.
        NO_CHANNEL = "no_channel", _("No way to reach the person")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="messages")
    rsvp = models.ForeignKey(RSVP, on_delete=models.CASCADE, related_name="messages")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    language = models.CharField(max_length=16, default="en")
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="eventmessage_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class SeatLog(models.Model):
    """Seats filled in one group of a mobilization (a quota, or the shared pool when quota is
    empty) from this moment on: a row each time the figure changes, for the dashboard's
    chart of seats filled over time."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="seat_logs")
    quota = models.ForeignKey(
        Quota, null=True, blank=True, on_delete=models.CASCADE, related_name="seat_logs"
    )
    filled = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["event", "at"], name="seatlog_event_at_idx")]

    def __str__(self) -> str:
        return f"seats {self.pk}"
