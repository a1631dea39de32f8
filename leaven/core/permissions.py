"""The permission matrix: what each role may do on the unit it is held on and on every
unit below it. This is the one place it is written down in code; docs/permissions.md
explains it for people."""

from __future__ import annotations

from typing import Final

from leaven.core.models import Role

PEOPLE_VIEW: Final = "people.view"
PEOPLE_VIEW_CONTACTS: Final = "people.view_contacts"
PEOPLE_VIEW_NOTES: Final = "people.view_notes"
PEOPLE_EDIT: Final = "people.edit"
PEOPLE_EXPORT: Final = "people.export"
AUDIT_VIEW_PERSON: Final = "audit.view_person"
AUDIT_VIEW_UNIT: Final = "audit.view_unit"
UNITS_MANAGE: Final = "units.manage"
ROLES_MANAGE: Final = "roles.manage"

ALL_PERMISSIONS: Final = frozenset(
    {
        PEOPLE_VIEW,
        PEOPLE_VIEW_CONTACTS,
        PEOPLE_VIEW_NOTES,
        PEOPLE_EDIT,
        PEOPLE_EXPORT,
        AUDIT_VIEW_PERSON,
        AUDIT_VIEW_UNIT,
        UNITS_MANAGE,
        ROLES_MANAGE,
    }
)

MATRIX: Final[dict[str, frozenset[str]]] = {
    Role.ADMIN: ALL_PERMISSIONS,
    Role.ORGANIZER: frozenset(
        {
            PEOPLE_VIEW,
            PEOPLE_VIEW_CONTACTS,
            PEOPLE_VIEW_NOTES,
            PEOPLE_EDIT,
            PEOPLE_EXPORT,
            AUDIT_VIEW_PERSON,
            UNITS_MANAGE,
        }
    ),
    Role.COORDINATOR: frozenset(
        {PEOPLE_VIEW, PEOPLE_VIEW_CONTACTS, PEOPLE_VIEW_NOTES, PEOPLE_EDIT, AUDIT_VIEW_PERSON}
    ),
    Role.CAPTAIN: frozenset({PEOPLE_VIEW, PEOPLE_VIEW_CONTACTS, PEOPLE_EDIT}),
    Role.DISPATCHER: frozenset({PEOPLE_VIEW, PEOPLE_VIEW_CONTACTS}),
    Role.RESPONDER: frozenset(),
    Role.ATTORNEY: frozenset({PEOPLE_VIEW, PEOPLE_VIEW_CONTACTS}),
    Role.VIEWER: frozenset({PEOPLE_VIEW}),
}

# Roles above viewer hold contact data or can change records: they must use MFA.
MFA_EXEMPT_ROLES: Final = frozenset({Role.VIEWER})


def role_allows(role: str, permission: str) -> bool:
    return permission in MATRIX.get(role, frozenset())
