from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leaven.core import access, permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    # What the main navigation shows: each area the user holds a permission for somewhere.
    return {
        "nav_can_see_people": access.can_anywhere(user, permissions.PEOPLE_VIEW),
        "nav_can_audit": access.can_anywhere(user, permissions.AUDIT_VIEW_UNIT),
        "nav_events": access.can_anywhere(user, permissions.EVENTS_VIEW),
        "nav_membership": access.can_anywhere(user, permissions.MEMBERSHIP_VIEW),
        "nav_imports": access.can_anywhere(user, permissions.IMPORTS_RUN),
        "nav_messaging": access.can_anywhere(user, permissions.MESSAGING_VIEW),
        "nav_canvass": access.can_anywhere(user, permissions.CANVASS_VIEW),
        "nav_rapid": access.can_anywhere(user, permissions.RAPID_VIEW),
        "nav_api": access.can_anywhere(user, permissions.API_MANAGE),
    }
