"""`leaven createuser`: a user, with a role on a unit, from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leaven.core import access, permissions
from leaven.core.models import AuditEvent, RoleAssignment, User

PASSWORD = "a long and unusual passphrase"  # noqa: S105


def run(*args):
    out = StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_creates_user_with_role(tree):
    """The user is created with their role; both writes are audited as coming from a command."""
    output = run(
        "--email",
        "Rosa@Example.org",
        "--password",
        PASSWORD,
        "--role",
        "coordinator",
        "--unit",
        tree.committee_a.slug,
        "--first-name",
        "Rosa",
        "--language",
        "es",
    )
    user = User.objects.get(email="rosa@example.org")
    assert user.check_password(PASSWORD)
    assert user.first_name == "Rosa"
    assert user.language == "es"
    assert not user.is_superuser
    assert access.can(user, permissions.PEOPLE_EDIT, tree.committee_a)
    assert "Created rosa@example.org" in output
    events = AuditEvent.objects.filter(verb__in=["user.created", "role.granted"], actor=None)
    mine = [e for e in events if e.object_id == str(user.pk) or e.detail.get("user") == user.pk]
    assert {e.verb for e in mine} == {"user.created", "role.granted"}
    assert all(e.source == AuditEvent.Source.COMMAND for e in mine)


def test_reuses_existing_user(coordinator, tree):
    """An address already known gets the new role; no second account, password unchanged."""
    output = run(
        "--email",
        "COORDINATOR@example.org",
        "--password",
        "something else entirely",
        "--role",
        "viewer",
        "--unit",
        tree.committee_b.slug,
    )
    assert User.objects.filter(email__iexact="coordinator@example.org").count() == 1
    coordinator.refresh_from_db()
    assert not coordinator.check_password("something else entirely")
    assert RoleAssignment.objects.filter(
        user=coordinator, unit=tree.committee_b, role="viewer"
    ).exists()
    assert "Created" not in output


def test_role_and_unit_go_together(tree):
    """A role without a unit (or a unit without a role) is an error, and nothing is created."""
    with pytest.raises(CommandError):
        run("--email", "x@example.org", "--password", PASSWORD, "--role", "viewer")
    with pytest.raises(CommandError):
        run("--email", "x@example.org", "--password", PASSWORD, "--unit", tree.committee_a.slug)
    assert not User.objects.filter(email="x@example.org").exists()


def test_unknown_unit_is_an_error(tree):
    """A unit slug that does not exist is an error, and nothing is created."""
    with pytest.raises(CommandError, match="no-such"):
        run(
            "--email",
            "x@example.org",
            "--password",
            PASSWORD,
            "--role",
            "viewer",
            "--unit",
            "no-such",
        )
    assert not User.objects.filter(email="x@example.org").exists()


def test_unknown_role_is_an_error(tree):
    """Only the roles Leaven knows are accepted."""
    with pytest.raises(CommandError):
        run(
            "--email",
            "x@example.org",
            "--password",
            PASSWORD,
            "--role",
            "overlord",
            "--unit",
            tree.committee_a.slug,
        )


def test_superuser_flag_makes_an_audited_operator(db):
    """--superuser makes an operator account, and that promotion is in the audit log."""
    run("--email", "op@example.org", "--password", PASSWORD, "--superuser")
    user = User.objects.get(email="op@example.org")
    assert user.is_superuser and user.is_staff
    event = AuditEvent.objects.get(verb="user.made_operator")
    assert event.object_id == str(user.pk)
    assert event.source == AuditEvent.Source.COMMAND


def test_superuser_flag_on_existing_user_is_audited(coordinator):
    """Promoting an existing account to operator is recorded too, once."""
    run("--email", coordinator.email, "--superuser")
    run("--email", coordinator.email, "--superuser")
    coordinator.refresh_from_db()
    assert coordinator.is_superuser
    assert (
        AuditEvent.objects.filter(verb="user.made_operator", object_id=str(coordinator.pk)).count()
        == 1
    )
