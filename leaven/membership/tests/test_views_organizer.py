"""Organizer pages: the members list with filters, a membership's page, recording cash
dues from a phone, status changes, waivers, reversals, tiers, the dues report with its
formula-safe CSV, and the growth dashboard. Another committee's coordinator gets 404."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from leaven.core.models import AuditEvent
from leaven.membership import services
from leaven.membership.models import DuesPayment, MembershipGoal, Tier

TODAY = timezone.localdate()


@pytest.fixture
def member(make_membership):
    return make_membership(today=TODAY, given_name="Ana", family_name="Reyes")


def _pay(actor, membership, cents=1000, method="cash", day=TODAY):
    return services.payment_record(
        actor=actor,
        membership=membership,
        amount_cents=cents,
        paid_on=day,
        method=method,
        today=TODAY,
    )


def test_members_list_filters(client_for, coordinator, make_membership, captain, tiers):
    active = make_membership(today=TODAY, given_name="Activa")
    _pay(captain, active)
    make_membership(today=TODAY, given_name="Pendiente")
    client = client_for(coordinator)
    body = client.get("/membership/").content.decode()
    assert "Activa" in body and "Pendiente" in body
    body = client.get("/membership/?status=active").content.decode()
    assert "Activa" in body and "Pendiente" not in body
    body = client.get(f"/membership/?tier={tiers[1].pk}").content.decode()
    assert "Activa" not in body


def test_members_list_outsider_sees_none(client_for, outsider, member):
    response = client_for(outsider).get("/membership/")
    assert response.status_code == 200
    assert "Ana" not in response.content.decode()


def test_detail_and_outsider_404(client_for, coordinator, outsider, member):
    assert client_for(coordinator).get(f"/membership/{member.pk}/").status_code == 200
    assert client_for(outsider).get(f"/membership/{member.pk}/").status_code == 404
    assert AuditEvent.objects.filter(verb="access.denied", object_type="membership").exists()


def test_outsider_cannot_record_change_waive_or_reverse(client_for, outsider, captain, member):
    payment = _pay(captain, member)
    client = client_for(outsider)
    assert client.get(f"/membership/{member.pk}/pay/").status_code == 404
    assert client.post(f"/membership/{member.pk}/pay/", {"amount": "10"}).status_code == 404
    assert (
        client.post(
            f"/membership/{member.pk}/status/", {"status": "lapsed", "reason": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/membership/{member.pk}/waiver/", {"review_on": "2099-01-01"}).status_code
        == 404
    )
    assert (
        client.post(f"/membership/payments/{payment.pk}/reverse/", {"reason": "x"}).status_code
        == 404
    )
    member.refresh_from_db()
    assert member.status == "active"
    assert DuesPayment.objects.count() == 1


def test_captain_records_cash_from_the_form(client_for, captain, member):
    """The form comes filled in: the member's dues and today; the receipt number is made up."""
    client = client_for(captain)
    page = client.get(f"/membership/{member.pk}/pay/").content.decode()
    assert 'value="10.00"' in page and f'value="{TODAY.isoformat()}"' in page
    response = client.post(
        f"/membership/{member.pk}/pay/",
        {"amount": "10.00", "paid_on": TODAY.isoformat(), "method": "cash"},
    )
    assert response.status_code == 302
    payment = DuesPayment.objects.get()
    assert (payment.amount_cents, payment.method, payment.recorded_by) == (1000, "cash", captain)
    assert payment.receipt_number


def test_captain_cannot_record_a_check(client_for, captain, member):
    client_for(captain).post(
        f"/membership/{member.pk}/pay/",
        {"amount": "10.00", "paid_on": TODAY.isoformat(), "method": "check"},
    )
    assert not DuesPayment.objects.exists()


def test_bad_amount_keeps_input(client_for, captain, member):
    response = client_for(captain).post(
        f"/membership/{member.pk}/pay/",
        {"amount": "ten", "paid_on": TODAY.isoformat(), "method": "cash", "note": "at the meeting"},
    )
    body = response.content.decode()
    assert "Enter an amount such as 25 or 12.50." in body
    assert "at the meeting" in body


def test_viewer_cannot_record(client_for, viewer, member):
    assert client_for(viewer).get(f"/membership/{member.pk}/pay/").status_code == 404


def test_status_waiver_and_reversal(client_for, coordinator, captain, member):
    payment = _pay(captain, member)
    client = client_for(coordinator)
    client.post(f"/membership/payments/{payment.pk}/reverse/", {"reason": "wrong member"})
    assert DuesPayment.objects.filter(reverses=payment, amount_cents=-1000).exists()
    review = (TODAY + dt.timedelta(days=90)).isoformat()
    client.post(f"/membership/{member.pk}/waiver/", {"review_on": review, "reason": "hardship"})
    member.refresh_from_db()
    assert member.status == "waived"
    client.post(f"/membership/{member.pk}/status/", {"status": "cancelled", "reason": "asked to"})
    member.refresh_from_db()
    assert member.status == "cancelled"


def test_tiers_page(client_for, coordinator, outsider, tree, tiers):
    client = client_for(coordinator)
    url = f"/membership/tiers/{tree.committee_a.slug}/"
    assert f"/join/{tree.committee_a.slug}/" in client.get(url).content.decode()
    client.post(
        url,
        {"name_en": "Student", "name_es": "Estudiante", "amount": "2", "interval": "monthly"},
    )
    assert Tier.objects.filter(name_en="Student", amount_cents=200).exists()
    assert client_for(outsider).get(url).status_code == 404


def test_dues_report_and_formula_safe_csv(client_for, coordinator, captain, member, tree):
    """The CSV cannot run formulas in a spreadsheet: cells starting with = + - @ or a tab
    are neutralized (here a unit name and a negative correction). The export is audited."""
    from leaven.core.services import unit_update

    _pay(captain, member, 1500)
    payment = _pay(captain, member, 1000)
    services.payment_reverse(actor=coordinator, payment=payment, reason="x", today=TODAY)
    unit_update(
        actor=_admin_of(tree),
        unit=tree.committee_a,
        name='=HYPERLINK("http://evil.example","x")',
        languages=["en", "es"],
        time_zone="America/Chicago",
    )
    client = client_for(coordinator)
    page = client.get(f"/membership/dues/?unit={tree.committee_a.slug}").content.decode()
    assert "$15.00" in page
    response = client.get(f"/membership/dues/?unit={tree.committee_a.slug}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Unit"
    assert all(row[0].startswith("'=") for row in rows[1:])
    assert [row[4] for row in rows[1:]] == ["15.00"]
    assert AuditEvent.objects.filter(verb="membership.dues_exported").count() == 1


def _admin_of(tree):
    from conftest import _user

    return _user("unit-admin@example.org", "admin", tree.network)


def test_safe_cell():
    from leaven.membership.views import _safe_cell

    for dangerous in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert _safe_cell(dangerous) == "'" + dangerous
    assert _safe_cell("Pilsen") == "Pilsen"


def test_report_and_growth_outsider_404(client_for, outsider, captain, tree, member):
    client = client_for(outsider)
    assert client.get(f"/membership/dues/?unit={tree.committee_a.slug}").status_code == 404
    assert (
        client.get(f"/membership/dues/?unit={tree.committee_a.slug}&format=csv").status_code == 404
    )
    assert client.get(f"/membership/growth/?unit={tree.committee_a.slug}").status_code == 404
    assert client_for(captain).get("/membership/dues/").status_code == 404


def test_growth_dashboard_svg_and_goal(client_for, coordinator, captain, member, tree):
    _pay(captain, member)
    client = client_for(coordinator)
    response = client.post(
        f"/membership/growth/?unit={tree.committee_a.slug}",
        {"target_count": "2", "target_date": (TODAY + dt.timedelta(days=200)).isoformat()},
    )
    assert response.status_code == 302
    assert MembershipGoal.objects.get().target_count == 2
    body = client.get(f"/membership/growth/?unit={tree.committee_a.slug}").content.decode()
    assert "<svg" in body and "<polyline" in body and 'class="goal"' in body
    assert "<script" not in body.split("<svg")[1].split("</svg>")[0]
