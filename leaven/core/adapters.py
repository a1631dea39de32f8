from __future__ import annotations

import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import get_authentication_records
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from leaven.core import crypto


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """No public sign-up: accounts are created by an admin or `leaven createuser`."""

    def is_open_for_signup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return False

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Changing how one signs in asks for the password again, except when setting up
        a first second factor within minutes of signing in with that password: then the
        password was just given, and asking again only stands between a new user and MFA."""
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        request = getattr(self, "request", None)
        if not required or app != "allauth.mfa" or request is None:
            return required
        user = request.user
        if not user.is_authenticated or Authenticator.objects.filter(user=user).exists():
            return True
        records = get_authentication_records(request, user)
        if not records or records[-1].get("method") != "password":
            return True
        age = time.time() - records[-1]["at"]
        return not age < account_settings.REAUTHENTICATION_TIMEOUT


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """TOTP secrets are stored with Leaven's field encryption, not in plain text."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)
