"""Rapid-response pages: the public report form, the hotline, the dashboard, the incident
page with its actions, and the links responders and verifiers tap."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from leaven.core.models import AuditEvent
from leaven.messaging.models import OutboxMessage
from leaven.rapid_response import services
from leaven.rapid_response.models import Alert, Incident, IncidentReport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _committee_a_takes_reports(request):
    """The public report tests post to committee A, which takes public reports."""
    if "tree" in request.fixturenames:
        request.getfixturevalue("public_a")


def _post_report(client, tree, unit=None, **extra):
    data = {"type": "checkpoint", "cross_streets": "Cermak & Ashland", "when": "0"}
    data.update(extra)
    slug = (unit or tree.committee_a).slug
    return client.post(reverse("rapid_response:report", args=[slug]), data)


def test_public_report_without_sign_in(client, tree):
    """Anyone can report without signing in; the report lands in the committee."""
    response = _post_report(client, tree, contact="+13125550123", lat="41.85", lon="-87.66")
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.owner_unit == tree.committee_a
    assert incident.lat == 41.85
    assert IncidentReport.objects.get().reporter_contact == "+13125550123"


def test_public_report_in_spanish_shows_spanish_errors_and_keeps_input(client, tree):
    """A report with no place is refused in Spanish, and what was typed is kept."""
    client.cookies["django_language"] = "es"
    response = _post_report(client, tree, cross_streets="", description="tres camionetas")
    assert response.status_code == 200
    assert "Ponga un alfiler" in response.content.decode()
    assert "tres camionetas" in response.content.decode()
    assert not Incident.objects.exists()


def test_honeypot_keeps_nothing(client, tree):
    """A filled-in hidden field looks like success and stores nothing."""
    response = _post_report(client, tree, website="http://spam.example")
    assert response.status_code == 302
    assert not Incident.objects.exists()


def test_public_report_rate_limit_is_shown(client, tree):
    """The sixth report from the same address gets a clear error."""
    for _ in range(services.RATE_LIMIT):
        assert _post_report(client, tree).status_code == 302
    response = _post_report(client, tree)
    assert response.status_code == 200
    assert "Too many reports" in response.content.decode()


def test_unit_without_public_reports_answers_404_like_an_unknown_slug(client, tree):
    """A unit that does not take public reports answers exactly as a slug nobody has: 404
    for the page, its thanks page and a post, and nothing is stored."""
    b = tree.committee_b
    unknown = client.get(reverse("rapid_response:report", args=["no-such-unit"]))
    closed = client.get(reverse("rapid_response:report", args=[b.slug]))
    assert unknown.status_code == closed.status_code == 404

    def same(response, slug):
        # Each page carries its own masked CSRF token and its own path; nothing else differs.
        text = re.sub(r"[A-Za-z0-9]{64}", "TOKEN", response.content.decode())
        return text.replace(slug, "SLUG")

    assert same(unknown, "no-such-unit") == same(closed, b.slug)
    thanks = client.get(reverse("rapid_response:report_thanks", args=[b.slug]))
    assert thanks.status_code == 404
    assert _post_report(client, tree, unit=b).status_code == 404
    assert _post_report(client, tree, unit=b, website="http://spam.example").status_code == 404
    assert not Incident.objects.exists()
    assert (
        client.get(reverse("rapid_response:report", args=[tree.committee_a.slug])).status_code
        == 200
    )


def test_public_report_page_loads_no_third_party_script(client, tree):
    """The form works without JavaScript (cross streets) and loads only our own files."""
    page = client.get(reverse("rapid_response:report", args=[tree.committee_a.slug])).content
    text = page.decode()
    assert 'name="cross_streets"' in text
    assert "https://" not in text.split("<main", 1)[1]


def test_dashboard_lists_open_incidents(client_for, dispatcher, report):
    """A dispatcher sees open incidents with the live region that polls."""
    incident = report(cross_streets="18th & Loomis")
    response = client_for(dispatcher).get(reverse("rapid_response:dashboard"))
    assert response.status_code == 200
    assert "18th &amp; Loomis" in response.content.decode()
    assert 'hx-trigger="every 10s"' in response.content.decode()
    rows = client_for(dispatcher).get(reverse("rapid_response:dashboard_rows"))
    assert reverse("rapid_response:incident", args=[incident.pk]) in rows.content.decode()


def test_outsider_sees_nothing(client_for, outsider, dispatcher_b, report):
    """A coordinator of another committee gets 404 for the dashboard and the incident; a
    dispatcher of another committee sees neither the incident nor its reporter."""
    incident = report(contact="+13125550777")
    url = reverse("rapid_response:incident", args=[incident.pk])
    assert client_for(outsider).get(reverse("rapid_response:dashboard")).status_code == 404
    assert client_for(outsider).get(url).status_code == 404
    other = client_for(dispatcher_b)
    assert other.get(url).status_code == 404
    rows = other.get(reverse("rapid_response:dashboard_rows")).content.decode()
    assert url not in rows
    state_url = reverse("rapid_response:incident_state", args=[incident.pk])
    assert other.post(state_url, {"state": "closed"}).status_code == 404
    assert AuditEvent.objects.filter(verb="access.denied", object_type="incident").exists()


def test_reporter_contact_only_for_dispatchers(client_for, dispatcher, admin, report):
    """The dispatcher of the unit reads the reporter's contact (audited); an admin does not."""
    incident = report(contact="+13125550777")
    url = reverse("rapid_response:incident", args=[incident.pk])
    assert "+13125550777" in client_for(dispatcher).get(url).content.decode()
    assert AuditEvent.objects.filter(verb="rapid.reporter_viewed", actor=dispatcher).exists()
    page = client_for(admin).get(url).content.decode()
    assert "+13125550777" not in page
    assert "dispatchers only" in page


def test_hotline_call_opens_an_incident(client_for, dispatcher, tree):
    """The hotline page records a call in the caller's language and opens the incident."""
    response = client_for(dispatcher).post(
        reverse("rapid_response:hotline"),
        {
            "unit": tree.committee_a.pk,
            "language": "es",
            "type": "workplace_raid",
            "cross_streets": "Western & 26th",
            "when": "15",
            "contact": "+13125550188",
        },
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("rapid_response:incident", args=[incident.pk])
    report = incident.reports.get()
    assert (report.source, report.language, report.taken_by) == ("hotline", "es", dispatcher)


def test_hotline_starts_on_the_dispatchers_committee_then_the_last_used(
    client_for, dispatcher, tree
):
    """A dispatcher of the network and of a committee finds their committee chosen, not the
    network; after a call for another unit, that unit is chosen next time."""
    import re

    from leaven.core.services import role_grant

    role_grant(actor=None, user=dispatcher, unit=tree.network, role="dispatcher", as_operator=True)
    client = client_for(dispatcher)

    def selected(page: str) -> int:
        found = re.search(r'<option value="(\d+)" selected>', page)
        assert found is not None
        return int(found.group(1))

    page = client.get(reverse("rapid_response:hotline")).content.decode()
    assert selected(page) == tree.committee_a.pk
    client.post(
        reverse("rapid_response:hotline"),
        {
            "unit": tree.committee_b.pk,
            "language": "en",
            "type": "sweep",
            "cross_streets": "26th & Pulaski",
            "when": "0",
        },
    )
    assert Incident.objects.get().owner_unit == tree.committee_b
    page = client.get(reverse("rapid_response:hotline")).content.decode()
    assert selected(page) == tree.committee_b.pk


def test_hotline_refuses_a_coordinator(client_for, coordinator):
    """The hotline page is for dispatchers only."""
    assert client_for(coordinator).get(reverse("rapid_response:hotline")).status_code == 404


def test_state_change_and_followup_through_the_page(client_for, dispatcher, report):
    """A dispatcher changes the state with a note and hands off to a follow-up."""
    incident = report()
    client = client_for(dispatcher)
    client.post(
        reverse("rapid_response:incident_state", args=[incident.pk]),
        {"state": "false_alarm", "note": "a moving truck"},
    )
    incident.refresh_from_db()
    assert incident.state == "false_alarm"
    bad = client.post(
        reverse("rapid_response:incident_state", args=[incident.pk]), {"state": "confirmed"}
    )
    assert bad.status_code == 400
    client.post(
        reverse("rapid_response:incident_followup", args=[incident.pk]),
        {"title": "Call the reporter back", "owner": dispatcher.pk},
    )
    assert incident.follow_ups.get().owner == dispatcher
    client.post(reverse("rapid_response:incident_hold", args=[incident.pk]), {"hold": "1"})
    incident.refresh_from_db()
    assert incident.legal_hold


def test_responder_answers_through_their_link(client, dispatcher, make_responder, report):
    """The link in the alert opens a page with two buttons; the answer is recorded."""
    responder = make_responder(0.5, language="es")
    incident = report()
    services.incident_set_state(actor=dispatcher, incident=incident, state="confirmed")
    message = OutboxMessage.objects.get(person=responder.person)
    path = "/rapid/a/" + message.body.rsplit("/rapid/a/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    client.post(path, {"answer": "going"})
    assert Alert.objects.get(responder=responder).ack == "going"


def test_verifier_confirms_through_their_link(client, dispatcher, make_responder, report):
    """A verifier's link confirms the incident, which alerts responders."""
    verifier = make_responder(0.3, skills=["verifier"])
    other = make_responder(1.0)
    incident = report()
    services.verifiers_request(actor=dispatcher, incident=incident)
    token = services.alert_token(incident_id=incident.pk, responder_id=verifier.pk, kind="verify")
    client.post(reverse("rapid_response:alert_link", args=[token]), {"state": "confirmed"})
    incident.refresh_from_db()
    assert incident.state == "confirmed"
    assert Alert.objects.filter(responder=other, kind="respond").exists()


def test_bad_link_is_404(client):
    """A tampered link shows nothing."""
    assert client.get(reverse("rapid_response:alert_link", args=["1.1.r:bad"])).status_code == 404
