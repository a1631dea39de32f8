"""Turfs, walk lists, assignments, scripts and door results."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit
from leaven.people.models import Household, Person


class Script(models.Model):
    """What a canvasser says at the door, in English and Spanish, with its questions."""

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="canvass_scripts", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=200)
    text_en = models.TextField(_("script in English"))
    text_es = models.TextField(_("script in Spanish"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("script")
        verbose_name_plural = _("scripts")

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        TEXT = "text", _("Short text")
        SCALE = "scale", _("Support, 1 to 5")

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text_en = models.CharField(_("question in English"), max_length=300)
    text_es = models.CharField(_("question in Spanish"), max_length=300)
    # [{"value": "yes", "en": "Yes", "es": "Sí"}, ...] for single and multiple choice.
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # {"yes": "supporter", "5": "supporter"}: an answer that moves the person to a stage.
    stage_rules = models.JSONField(_("stage rules"), default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.text_en


class Turf(models.Model):
    """A walkable piece of an area: households in walking order."""

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="turfs", verbose_name=_("unit")
    )
    name = models.CharField(_("name"), max_length=200)
    color = models.CharField(max_length=7, default="#8a2f14")
    script = models.ForeignKey(
        Script,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turfs",
        verbose_name=_("script"),
    )
    # The precinct most of its doors are in: a captain's "my precinct".
    precinct_code = models.CharField(_("precinct"), max_length=40, blank=True, db_index=True)
    ward_code = models.CharField(_("ward"), max_length=40, blank=True)
    door_count = models.PositiveIntegerField(default=0)
    route_length_m = models.FloatField(default=0)
    # How the area was chosen (kind and codes, filters, target), ids and codes only.
    area = models.JSONField(default=dict, blank=True)
    archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "name", "id"]
        verbose_name = _("turf")
        verbose_name_plural = _("turfs")

    def __str__(self) -> str:
        return self.name


class TurfDoor(models.Model):
    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="doors")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="turf_doors")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["turf", "household"], name="unique_turf_door")
        ]

    def __str__(self) -> str:
        return f"{self.turf_id}#{self.position}"


class Assignment(models.Model):
    """A turf given to a canvasser for a shift window."""

    turf = models.ForeignKey(Turf, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="canvass_assignments",
        verbose_name=_("canvasser"),
    )
    starts_at = models.DateTimeField(_("shift starts"))
    ends_at = models.DateTimeField(_("shift ends"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    handed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-starts_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.turf_id}->{self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.ends_at > timezone.now()


class ResultCode(models.TextChoices):
    NOT_HOME = "not_home", _("Not home")
    REFUSED = "refused", _("Refused")
    MOVED = "moved", _("Moved")
    INACCESSIBLE = "inaccessible", _("Inaccessible")
    LANGUAGE = "language_barrier", _("Language barrier")
    SPOKE = "spoke", _("Spoke")


class ContactAttempt(models.Model):
    """One knock on one door, as the canvasser recorded it."""

    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_attempts",
    )
    turf = models.ForeignKey(
        Turf, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    result = models.CharField(_("result"), max_length=20, choices=ResultCode.choices)
    canvasser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["household", "-at"], name="attempt_household_idx"),
            models.Index(fields=["person", "-at"], name="attempt_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.result}"


class SurveyResponse(models.Model):
    """One answer to one question. Two canvassers answering the same question for the same
    person both keep their answer: nothing is overwritten."""

    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    attempt = models.ForeignKey(ContactAttempt, on_delete=models.CASCADE, related_name="responses")
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="responses")
    value = models.JSONField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.question_id}={self.value}"
