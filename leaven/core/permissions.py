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
MESSAGING_VIEW: Final = "messaging.view"
MESSAGING_SEND: Final = "messaging.send"
MEMBERSHIP_VIEW: Final = "membership.view"
MEMBERSHIP_MANAGE: Final = "membership.manage"
MEMBERSHIP_RECORD_CASH: Final = "membership.record_cash"
MEMBERSHIP_REPORT: Final = "membership.report"
EVENTS_VIEW: Final = "events.view"
EVENTS_MANAGE: Final = "events.manage"
EVENTS_CHECKIN: Final = "events.checkin"
IMPORTS_RUN: Final = "imports.run"
GEO_MANAGE: Final = "geo.manage"
CANVASS_VIEW: Final = "canvass.view"
CANVASS_WALK: Final = "canvass.walk"
CANVASS_MANAGE: Final = "canvass.manage"
RAPID_VIEW: Final = "rapid.view"
RAPID_DISPATCH: Final = "rapid.dispatch"
RAPID_VIEW_REPORTER: Final = "rapid.view_reporter"
RAPID_MANAGE_RESPONDERS: Final = "rapid.manage_responders"
API_MANAGE: Final = "api.manage"

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
        MEMBERSHIP_VIEW,
        MEMBERSHIP_MANAGE,
        MEMBERSHIP_RECORD_CASH,
        MEMBERSHIP_REPORT,
        GEO_MANAGE,
        IMPORTS_RUN,
        MESSAGING_VIEW,
        MESSAGING_SEND,
        EVENTS_VIEW,
        EVENTS_MANAGE,
        EVENTS_CHECKIN,
        CANVASS_VIEW,
        CANVASS_WALK,
        CANVASS_MANAGE,
        RAPID_VIEW,
        RAPID_DISPATCH,
        RAPID_VIEW_REPORTER,
        RAPID_MANAGE_RESPONDERS,
        API_MANAGE,
    }
)

# A reporter's contact is for the dispatchers who call them back, not for every admin.
_ADMIN: Final = ALL_PERMISSIONS - {RAPID_VIEW_REPORTER}

MATRIX: Final[dict[str, frozenset[str]]] = {
    Role.ADMIN: _ADMIN,
    Role.ORGANIZER: frozenset(
        {
            PEOPLE_VIEW,
            PEOPLE_VIEW_CONTACTS,
            PEOPLE_VIEW_NOTES,
            PEOPLE_EDIT,
            PEOPLE_EXPORT,
            AUDIT_VIEW_PERSON,
            UNITS_MANAGE,
            MEMBERSHIP_VIEW,
            MEMBERSHIP_MANAGE,
            MEMBERSHIP_RECORD_CASH,
            MEMBERSHIP_REPORT,
            GEO_MANAGE,
            IMPORTS_RUN,
            MESSAGING_VIEW,
            MESSAGING_SEND,
            EVENTS_VIEW,
            EVENTS_MANAGE,
            EVENTS_CHECKIN,
            CANVASS_VIEW,
            CANVASS_WALK,
            CANVASS_MANAGE,
            RAPID_VIEW,
            RAPID_MANAGE_RESPONDERS,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            PEOPLE_VIEW,
            PEOPLE_VIEW_CONTACTS,
            PEOPLE_VIEW_NOTES,
            PEOPLE_EDIT,
            AUDIT_VIEW_PERSON,
            MEMBERSHIP_VIEW,
            MEMBERSHIP_MANAGE,
            MEMBERSHIP_RECORD_CASH,
            MEMBERSHIP_REPORT,
            IMPORTS_RUN,
            MESSAGING_VIEW,
            MESSAGING_SEND,
            EVENTS_VIEW,
            EVENTS_MANAGE,
            EVENTS_CHECKIN,
            CANVASS_VIEW,
            CANVASS_WALK,
            CANVASS_MANAGE,
        }
    ),
    Role.CAPTAIN: frozenset(
        {
            PEOPLE_VIEW,
            PEOPLE_VIEW_CONTACTS,
            PEOPLE_EDIT,
            MEMBERSHIP_VIEW,
            MEMBERSHIP_RECORD_CASH,
            EVENTS_VIEW,
            EVENTS_CHECKIN,
            CANVASS_VIEW,
            CANVASS_WALK,
        }
    ),
    Role.DISPATCHER: frozenset(
        {
            PEOPLE_VIEW,
            PEOPLE_VIEW_CONTACTS,
            RAPID_VIEW,
            RAPID_DISPATCH,
            RAPID_VIEW_REPORTER,
            RAPID_MANAGE_RESPONDERS,
        }
    ),
    Role.RESPONDER: frozenset(),
    Role.ATTORNEY: frozenset({PEOPLE_VIEW, PEOPLE_VIEW_CONTACTS}),
    Role.VIEWER: frozenset({PEOPLE_VIEW, MEMBERSHIP_VIEW, EVENTS_VIEW, CANVASS_VIEW}),
}

# Roles above viewer hold contact data or can change records: they must use MFA.
MFA_EXEMPT_ROLES: Final = frozenset({Role.VIEWER})


def role_allows(role: str, permission: str) -> bool:
    return permission in MATRIX.get(role, frozenset())
