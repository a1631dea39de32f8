from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.fields import EncryptedJSONField, EncryptedTextField
from leaven.core.models import OrgUnit


class Stage(models.TextChoices):
    """The relationship ladder."""

    UNKNOWN = "unknown", _("Unknown")
    CONTACTED = "contacted", _("Contacted")
    SUPPORTER = "supporter", _("Supporter")
    VOLUNTEER = "volunteer", _("Volunteer")
    LEADER = "leader", _("Leader")


STAGE_ORDER = {stage: index for index, stage in enumerate(Stage.values)}


class Household(models.Model):
    """People living at one address, voters or not."""

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="households")
    street = models.CharField(_("street address"), max_length=200)
    unit = models.CharField(_("apartment or unit"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=2)
    zip_code = models.CharField(_("ZIP code"), max_length=10, blank=True)
    address_key = models.CharField(max_length=255, editable=False)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    # Filled by geography: the precinct and ward this dwelling falls in.
    precinct_code = models.CharField(_("precinct"), max_length=40, blank=True, db_index=True)
    ward_code = models.CharField(_("ward"), max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner_unit", "address_key"], name="unique_household_address"
            )
        ]
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.one_line

    @property
    def one_line(self) -> str:
        street = f"{self.street} {self.unit}".strip()
        return f"{street}, {self.city}, {self.state} {self.zip_code}".strip()


class Person(models.Model):
    """One record per person. Nothing here depends on voter registration."""

    owner_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="owned_people", verbose_name=_("unit")
    )
    # Indexed with the sort name (person_home_idx): a household's residents in name order,
    # and the import's lookup of residents by household, read the index alone.
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        verbose_name=_("household"),
        db_index=False,
    )
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    pronouns = models.CharField(_("pronouns"), max_length=40, blank=True)
    language = models.CharField(_("preferred language"), max_length=16, default="en")
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.UNKNOWN
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    sensitive_fields = EncryptedJSONField(_("sensitive fields"), blank=True, default=dict)
    source = models.CharField(_("source"), max_length=100, blank=True)
    # Derived, for fast lists: folded names and whether contact points exist.
    sort_name = models.CharField(max_length=200, editable=False, default="")
    given_sort = models.CharField(max_length=100, editable=False, default="")
    has_email = models.BooleanField(default=False, editable=False)
    has_phone = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    modified_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["sort_name", "id"], name="person_sort_idx"),
            models.Index(fields=["given_sort", "id"], name="person_given_idx"),
            models.Index(fields=["stage", "sort_name", "id"], name="person_stage_idx"),
            # Counts by stage walk one stage's people in id order, so the per-person EXISTS
            # probes (units, tags) move forward through their indexes instead of jumping.
            models.Index(fields=["stage"], name="person_stage_count_idx"),
            models.Index(fields=["language", "sort_name", "id"], name="person_lang_idx"),
            models.Index(fields=["modified_at"], name="person_modified_idx"),
            models.Index(fields=["household", "sort_name"], name="person_home_idx"),
        ]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}".strip()


class PersonUnit(models.Model):
    """A person's belonging to a unit: a committee's member, a circle's, a caucus's."""

    # No index of their own: the unique (person, unit) and the (unit, person) index below
    # answer every lookup by either column, and each extra index is written once per
    # member (a voter-file import writes one link per row).
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="unit_links", db_index=False
    )
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="person_links", db_index=False
    )
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "unit"], name="unique_person_unit")
        ]
        indexes = [models.Index(fields=["unit", "person"], name="personunit_unit_idx")]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.unit_id}"


class StageChange(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=12, choices=Stage.choices)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_stage}→{self.to_stage}"


class Email(models.Model):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", _("Subscribed")
        # Known, but never asked for news: transactional mail only, and they may still
        # subscribe themselves. Not an unsubscribe.
        NONE = "none", _("No email consent")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCING = "bouncing", _("Bouncing")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    address = EncryptedTextField(_("email address"))
    address_index = models.CharField(max_length=32, db_index=True, editable=False)
    status = models.CharField(
        _("email consent"), max_length=14, choices=Status.choices, default=Status.SUBSCRIBED
    )
    is_primary = models.BooleanField(_("primary"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "address_index"], name="unique_person_email")
        ]

    def __str__(self) -> str:
        return f"email {self.pk}"


class Phone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", _("Home")
        WORK = "work", _("Work")
        OTHER = "other", _("Other")

    class SMSStatus(models.TextChoices):
        NONE = "none", _("No SMS consent")
        OPTED_IN = "opted_in", _("Opted in")
        OPTED_OUT = "opted_out", _("Opted out")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = EncryptedTextField(_("phone number"))
    number_index = models.CharField(max_length=32, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    sms_status = models.CharField(
        _("SMS consent"), max_length=10, choices=SMSStatus.choices, default=SMSStatus.NONE
    )
    urgent_alerts = models.BooleanField(_("round-the-clock urgent alerts"), default=False)
    is_primary = models.BooleanField(_("primary"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True)
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "number_index"], name="unique_person_phone")
        ]

    def __str__(self) -> str:
        return f"phone {self.pk}"


class Tag(models.Model):
    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner_unit", "name"], name="unique_tag_name")
        ]

    def __str__(self) -> str:
        return self.name


class Tagging(models.Model):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="taggings")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "person"], name="unique_tagging")]
        indexes = [models.Index(fields=["person", "tag"], name="tagging_person_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id}:{self.person_id}"


class Relationship(models.Model):
    """A typed tie between two people: "Ana recruited Luis"."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("Family")
        NEIGHBOR = "neighbor", _("Neighbor")
        RECRUITED_BY = "recruited_by", _("Recruited by")
        COWORKER = "coworker", _("Coworker")
        FRIEND = "friend", _("Friend")
        CONGREGATION = "congregation", _("Same congregation")
        OTHER = "other", _("Other")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="relationships")
    other = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="related_from")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "other", "kind"], name="unique_relationship"),
            models.CheckConstraint(
                condition=~models.Q(person=models.F("other")), name="relationship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.other_id}"


class PartnerOrganization(models.Model):
    """A partner organization: a union, a parish, a hometown club, a clinic."""

    class Sector(models.TextChoices):
        LABOR = "labor", _("Labor")
        FAITH = "faith", _("Faith")
        HEALERS = "healers", _("Healers and health")
        ARTISTS = "artists", _("Artists")
        DONORS = "donors", _("Donors")
        COMMUNITY = "community", _("Community")
        STUDENTS = "students", _("Students and schools")
        LEGAL = "legal", _("Legal")
        OTHER = "other", _("Other")

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="partners")
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=12, choices=Sector.choices)
    website = models.URLField(_("website"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner_unit", "name"], name="unique_partner_name")
        ]

    def __str__(self) -> str:
        return self.name


class Affiliation(models.Model):
    """A person's tie to a partner organization."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="affiliations"
    )
    title = models.CharField(_("role or title"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "organization"], name="unique_affiliation")
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.organization_id}"


class Note(models.Model):
    """A dated note on a person's timeline; the text is stored encrypted."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    body = EncryptedTextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class CustomField(models.Model):
    """A field a unit adds to its people. Sensitive ones are stored encrypted."""

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    sensitive = models.BooleanField(_("sensitive"), default=False)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["owner_unit", "key"], name="unique_custom_field")
        ]

    def __str__(self) -> str:
        return self.label
