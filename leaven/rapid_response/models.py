"""Incidents reported by the public or a hotline, their verification, responders alerted by
where they are, acknowledgements, escalation rings and follow-ups.

Nothing here records who a reporter is beyond an optional, encrypted contact that the purge
removes; responders carry a coarse H3 cell (and its centre), never a home address."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.fields import EncryptedTextField
from leaven.core.models import OrgUnit
from leaven.people.models import Person

# H3 resolution for stored cells: about 0.7 km² a cell, coarse enough not to point at a house.
H3_RESOLUTION = 8


class IncidentType(models.TextChoices):
    SWEEP = "sweep", _("Sweep")
    TARGETED_ARREST = "targeted_arrest", _("Targeted arrest")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    WORKPLACE_RAID = "workplace_raid", _("Workplace raid")
    TRAFFIC_STOP = "traffic_stop", _("Traffic stop")
    COURTHOUSE = "courthouse", _("Courthouse")
    OTHER = "other", _("Other")


# First-ring alert radius in km for each kind of incident.
RADIUS_KM: dict[str, float] = {
    IncidentType.SWEEP: 5.0,
    IncidentType.TARGETED_ARREST: 3.0,
    IncidentType.CHECKPOINT: 4.0,
    IncidentType.WORKPLACE_RAID: 8.0,
    IncidentType.TRAFFIC_STOP: 2.0,
    IncidentType.COURTHOUSE: 5.0,
    IncidentType.OTHER: 3.0,
}


class Incident(models.Model):
    """One event on the ground; several reports near in place and time are grouped here."""

    class State(models.TextChoices):
        REPORTED = "reported", _("Reported")
        VERIFYING = "verifying", _("Verifying")
        CONFIRMED = "confirmed", _("Confirmed")
        UNCONFIRMED = "unconfirmed", _("Unconfirmed")
        FALSE_ALARM = "false_alarm", _("False alarm")
        CLOSED = "closed", _("Closed")

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("unit")
    )
    type = models.CharField(_("what"), max_length=20, choices=IncidentType.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=State.choices, default=State.REPORTED
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    cell = models.CharField(_("area (H3 cell)"), max_length=16, blank=True)
    cross_streets = models.CharField(_("cross streets"), max_length=200, blank=True)
    seen_at = models.DateTimeField(_("seen at"))
    description = models.TextField(_("what was seen"), blank=True)
    officers = models.PositiveSmallIntegerField(_("number of officers"), null=True, blank=True)
    needed_acks = models.PositiveSmallIntegerField(_("responders needed"), default=3)
    escalate_minutes = models.PositiveSmallIntegerField(_("escalate after minutes"), default=10)
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_report_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    contact_purged_at = models.DateTimeField(null=True, blank=True)
    reduced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner_unit", "state"], name="rapid_incident_state_idx")]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"{self.get_type_display()} #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.REPORTED, self.State.VERIFYING, self.State.CONFIRMED)


class IncidentReport(models.Model):
    """One intake: a public form or a hotline call."""

    class Source(models.TextChoices):
        PUBLIC = "public", _("Public form")
        HOTLINE = "hotline", _("Hotline")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    source = models.CharField(max_length=8, choices=Source.choices)
    type = models.CharField(max_length=20, choices=IncidentType.choices)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    cell = models.CharField(max_length=16, blank=True)
    cross_streets = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField()
    description = models.TextField(blank=True)
    officers = models.PositiveSmallIntegerField(null=True, blank=True)
    language = models.CharField(max_length=16, default="en")
    reporter_contact = EncryptedTextField(blank=True, default="")
    # Keyed hash of the sender's address, for rate limits only; purged with the contact.
    sender_index = models.CharField(max_length=32, blank=True, db_index=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"report {self.pk}"


class StateChange(models.Model):
    """One step of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="changes")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, choices=Incident.State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responder = models.ForeignKey(
        "Responder", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.from_state} -> {self.to_state}"


class Skill(models.TextChoices):
    VERIFIER = "verifier", _("Verifier")
    LEGAL_OBSERVER = "legal_observer", _("Legal observer")
    ACCOMPANIMENT = "accompaniment", _("Accompaniment")
    DRIVER = "driver", _("Driver")


class Responder(models.Model):
    """A person on the responder roster: skills, languages, when they are on call and a coarse
    area (an H3 cell and its centre), never a home address."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="responder_roles")
    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="responders", verbose_name=_("unit")
    )
    skills = models.JSONField(_("skills"), default=list)
    languages = models.JSONField(_("languages"), default=list)
    # [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}] in the unit's time zone; empty
    # means round the clock.
    windows = models.JSONField(_("on-call windows"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    is_verifier = models.BooleanField(_("verifier"), default=False)
    cell = models.CharField(_("area (H3 cell)"), max_length=16)
    # The home precinct's code when the area was given as a precinct (public geography).
    precinct = models.CharField(_("home precinct"), max_length=40, blank=True)
    lat = models.FloatField()
    lon = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "owner_unit"], name="rapid_one_responder")
        ]
        indexes = [models.Index(fields=["lat", "lon"], name="rapid_responder_latlon_idx")]
        verbose_name = _("responder")
        verbose_name_plural = _("responders")

    def __str__(self) -> str:
        return f"responder {self.pk}"


class Ring(models.Model):
    """One wave of alerts for an incident: the first radius, a wider one, the parent unit,
    the root."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="rings")
    number = models.PositiveSmallIntegerField()
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    radius_km = models.FloatField()
    alerted = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="rapid_one_ring_number")
        ]

    def __str__(self) -> str:
        return f"ring {self.number} of {self.incident_id}"


class Alert(models.Model):
    """One request to one responder about one incident: to verify, or to come. Unique per
    (incident, responder, kind), so nobody is asked twice."""

    class Kind(models.TextChoices):
        VERIFY = "verify", _("Verify")
        RESPOND = "respond", _("Respond")

    class Ack(models.TextChoices):
        PENDING = "pending", _("No answer yet")
        GOING = "going", _("Going")
        CANT = "cant", _("Can't go")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts")
    responder = models.ForeignKey(Responder, on_delete=models.CASCADE, related_name="alerts")
    ring = models.ForeignKey(Ring, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RESPOND)
    message_key = models.CharField(max_length=120, blank=True)
    ack = models.CharField(max_length=8, choices=Ack.choices, default=Ack.PENDING)
    ack_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "responder", "kind"], name="rapid_one_alert"
            )
        ]

    def __str__(self) -> str:
        return f"alert {self.pk}"


class FollowUp(models.Model):
    """The hand-off after an incident: a task with an owner (a defense case later)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="follow_ups")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    title = models.CharField(_("what to do"), max_length=200)
    due = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done", "due", "id"]

    def __str__(self) -> str:
        return self.title
