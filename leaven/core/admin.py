"""The Django admin is for operators (superusers) only: the org tree, users and roles,
and a read-only audit log. People records are not in it; they are read through the scoped
pages."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from leaven.core.models import AuditEvent, OrgUnit, RoleAssignment, User


def _superuser_only(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superuser_only  # type: ignore[method-assign]
# The admin's own login form asks for a password only: send sign-ins through allauth, which
# asks for the second factor too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "language")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a user would rewrite their append-only audit events: deactivate instead.
        return False


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Units are created through the unit pages or `leaven unit create`, which keep the
    tree's paths; here an operator can look and rename."""

    list_display = ["name", "kind", "parent", "slug", "time_zone"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    fields = ["name", "kind", "parent", "slug", "languages", "time_zone", "path"]
    readonly_fields = ["kind", "parent", "slug", "path"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: OrgUnit, form: Any, change: bool) -> None:
        unit = OrgUnit.objects.get(pk=obj.pk)
        _operator_update(request.user, unit, obj)


def _operator_update(actor: Any, unit: OrgUnit, changed: OrgUnit) -> None:
    from leaven.core.audit import audit_record

    unit.name, unit.languages, unit.time_zone = changed.name, changed.languages, changed.time_zone
    unit.save(update_fields=["name", "languages", "time_zone"])
    audit_record(actor=actor, verb="unit.updated", obj=unit, unit=unit, detail={"via": "admin"})


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "role", "unit", "created_at"]
    list_filter = ["role"]
    autocomplete_fields = ["user", "unit"]
    fields = ["user", "unit", "role"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: RoleAssignment, form: Any, change: bool
    ) -> None:
        from leaven.core.services import role_grant

        granted = role_grant(
            actor=request.user, user=obj.user, unit=obj.unit, role=obj.role, as_operator=True
        )
        obj.pk = granted.pk

    def delete_model(self, request: HttpRequest, obj: RoleAssignment) -> None:
        from leaven.core.services import role_revoke

        role_revoke(actor=request.user, assignment=obj, as_operator=True)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for assignment in queryset:
            self.delete_model(request, assignment)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["at", "verb", "object_type", "object_id", "actor", "unit", "source"]
    list_filter = ["source", "verb"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
