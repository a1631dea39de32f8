from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.models import OrgUnit


class Jurisdiction(models.Model):
    """A piece of public geography: a state, county, city, ward, precinct or district, with
    its boundary. Shared by every unit; it holds no personal data."""

    class Kind(models.TextChoices):
        STATE = "state", _("State")
        COUNTY = "county", _("County")
        CITY = "city", _("City")
        WARD = "ward", _("Ward")
        PRECINCT = "precinct", _("Precinct")
        CONGRESSIONAL = "congressional", _("Congressional district")
        STATE_HOUSE = "state_house", _("State house district")
        STATE_SENATE = "state_senate", _("State senate district")
        SCHOOL = "school", _("School district")
        COUNCIL = "council", _("Council district")
        OTHER = "other", _("Other district")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    # The boundary as a GeoJSON geometry (Polygon or MultiPolygon, WGS 84), and its
    # bounding box for a quick first filter.
    boundary = models.TextField(_("boundary"), blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="unique_jurisdiction_code")
        ]
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"


class VoterRecord(models.Model):
    """What a voter file says about a person, kept apart from the person: being a person in
    Leaven never depends on having one."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, related_name="voter_record"
    )
    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=2)
    registration_number = models.CharField(_("registration number"), max_length=40)
    voter_id = models.CharField(_("statewide voter id"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=40, blank=True)
    party = models.CharField(_("party"), max_length=20, blank=True)
    registration_date = models.DateField(_("registration date"), null=True, blank=True)
    precinct_code = models.CharField(_("precinct"), max_length=60, blank=True)
    ward_code = models.CharField(_("ward"), max_length=60, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_unit", "state", "registration_number"],
                name="unique_voter_registration",
            )
        ]
        indexes = [models.Index(fields=["precinct_code"], name="voter_precinct_idx")]
        verbose_name = _("voter record")
        verbose_name_plural = _("voter records")

    def __str__(self) -> str:
        return f"{self.state} {self.registration_number}"


class ElectionResult(models.Model):
    """Votes for one choice in one contest in one precinct."""

    precinct = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="election_results"
    )
    election = models.CharField(_("election"), max_length=200)
    election_date = models.DateField(_("election date"), null=True, blank=True)
    contest = models.CharField(_("contest"), max_length=200)
    choice = models.CharField(_("choice"), max_length=200)
    votes = models.PositiveIntegerField(_("votes"))

    class Meta:
        ordering = ["election", "contest", "-votes"]
        constraints = [
            models.UniqueConstraint(
                fields=["precinct", "election", "contest", "choice"], name="unique_result"
            )
        ]
        verbose_name = _("election result")
        verbose_name_plural = _("election results")

    def __str__(self) -> str:
        return f"{self.contest}: {self.choice} {self.votes}"
