from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from leaven.core import access, permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "nav_can_see_people": access.can_anywhere(user, permissions.PEOPLE_VIEW),
        "nav_can_audit": access.can_anywhere(user, permissions.AUDIT_VIEW_UNIT),
    }
