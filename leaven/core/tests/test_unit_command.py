"""`leaven unit`: create units (root units included) and list the tree."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leaven.core.models import AuditEvent, OrgUnit


def run(*args):
    out = StringIO()
    call_command("unit", *args, stdout=out)
    return out.getvalue()


def test_create_root_unit(db):
    """A network is created at the root, and the creation is audited as a command."""
    output = run("create", "--name", "Red Nacional", "--kind", "network", "--slug", "red")
    unit = OrgUnit.objects.get(slug="red")
    assert unit.parent is None
    assert unit.path == f"/{unit.pk}/"
    assert unit.languages == ["en", "es"]
    assert "Created red" in output
    event = AuditEvent.objects.get(verb="unit.created", object_id=str(unit.pk))
    assert event.source == AuditEvent.Source.COMMAND
    assert event.actor is None


def test_create_child_unit(tree):
    """A unit created with --parent sits under that parent, with the languages given."""
    run(
        "create",
        "--name",
        "Ward 25",
        "--kind",
        "ward_team",
        "--parent",
        tree.committee_a.slug,
        "--languages",
        "es",
        "--time-zone",
        "America/New_York",
    )
    ward = OrgUnit.objects.get(name="Ward 25")
    assert ward.parent == tree.committee_a
    assert ward.path.startswith(tree.committee_a.path)
    assert ward.languages == ["es"]
    assert ward.time_zone == "America/New_York"


def test_unknown_parent_is_an_error(tree):
    """A parent slug that does not exist is an error, and nothing is created."""
    before = OrgUnit.objects.count()
    with pytest.raises(CommandError, match="nowhere"):
        run("create", "--name", "X", "--kind", "circle", "--parent", "nowhere")
    assert OrgUnit.objects.count() == before


def test_service_rule_becomes_command_error(tree):
    """A unit that may not sit under its parent is refused with the service's message."""
    before = OrgUnit.objects.count()
    with pytest.raises(CommandError):
        run("create", "--name", "X", "--kind", "region", "--parent", tree.circle_a.slug)
    with pytest.raises(CommandError):
        run("create", "--name", "X", "--kind", "committee")
    assert OrgUnit.objects.count() == before


def test_name_and_kind_are_required(db):
    """Creating without a name or a kind is an error."""
    with pytest.raises(CommandError):
        run("create", "--kind", "network")
    with pytest.raises(CommandError):
        run("create", "--name", "X")


def test_list_shows_the_tree(tree):
    """`unit list` prints every unit, indented by depth, in tree order."""
    lines = run("list").splitlines()
    assert lines[0].startswith(tree.network.slug)
    index = {line.split()[0]: n for n, line in enumerate(lines)}
    assert index[tree.circle_a.slug] == index[tree.committee_a.slug] + 1
    assert lines[index[tree.circle_a.slug]].startswith(" " * 6 + tree.circle_a.slug)
    assert lines[index[tree.region.slug]].startswith(" " * 2 + tree.region.slug)
    assert "(committee)" in lines[index[tree.committee_b.slug]]
    assert len(lines) == 5


def test_public_report_page_is_closed_unless_asked_for(db):
    """A unit takes public incident reports only when created with --public-reports."""
    run("create", "--name", "Red", "--kind", "network", "--slug", "red")
    run("create", "--name", "Pilsen", "--kind", "committee", "--parent", "red",
        "--slug", "pilsen", "--public-reports")  # fmt: skip
    assert not OrgUnit.objects.get(slug="red").takes_public_reports
    assert OrgUnit.objects.get(slug="pilsen").takes_public_reports
