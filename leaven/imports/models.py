from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leaven.core.fields import EncryptedTextField
from leaven.core.models import OrgUnit


class ColumnMapping(models.Model):
    """A saved, reusable mapping of a file's columns to Leaven's fields, kept per unit.
    `columns` maps a Leaven field name to the file's column header; `constants` gives fixed
    values (a voter file's state)."""

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    delimiter = models.CharField(_("delimiter"), max_length=2, default=",")
    columns = models.JSONField(_("columns"), default=dict)
    constants = models.JSONField(_("fixed values"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner_unit", "name"], name="unique_mapping_name")
        ]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One uploaded file and its import into one unit."""

    class Mode(models.TextChoices):
        ALL = "all", _("All or nothing")
        VALID = "valid", _("Import the valid rows")

    class State(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    owner_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    file_hash = models.CharField(max_length=64, db_index=True)
    file_path = models.CharField(max_length=500)
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(_("encoding"), max_length=20, default="utf-8")
    encoding_confirmed = models.BooleanField(default=False)
    delimiter = models.CharField(_("delimiter"), max_length=2, default=",")
    header = models.JSONField(default=list)
    mapping = models.JSONField(_("mapping"), default=dict)
    mapping_name = models.CharField(max_length=100, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.VALID)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.UPLOADED
    )
    cancel_requested = models.BooleanField(default=False)
    # The last data row (1-based) whose batch is committed: a resumed run starts after it.
    checkpoint_row = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner_unit", "file_hash"], name="import_unit_hash_idx")]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"import {self.pk}"

    @property
    def finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED, self.State.CANCELLED}


class ImportReject(models.Model):
    """A row that was not imported, with why. The raw row holds personal data: encrypted,
    and deleted with its import."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejects")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    raw_row = EncryptedTextField(_("row"), blank=True)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_reject_row_idx")]

    def __str__(self) -> str:
        return f"reject {self.job_id}:{self.row_number}"
