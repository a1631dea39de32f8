"""A captain canvasses on a phone with no signal: the walk list is downloaded, results are
recorded offline, kept across a reload, synced once back online (a repeated sync adds
nothing), and after sign-out the browser holds no personal data."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from leaven.core.tests.browser.fixtures import PHONE
from leaven.core.tests.browser.helpers import assert_fits_a_phone, wait_until_true

pytestmark = pytest.mark.browser

DUMP_STORAGE = """async () => {
  const out = {idb: [], local: {}, caches: []};
  for (const info of await indexedDB.databases()) {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(info.name);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => no(r.error);
    });
    for (const name of db.objectStoreNames) {
      const rows = await new Promise((ok) => {
        const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result);
      });
      out.idb.push({db: info.name, store: name, rows: JSON.stringify(rows, (k, v) =>
        v instanceof Uint8Array ? Array.from(v) : v)});
    }
    db.close();
  }
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i); out.local[k] = localStorage.getItem(k);
  }
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      out.caches.push({name, url: request.url, body: await response.text()});
    }
  }
  return JSON.stringify(out);
}"""


def _personal_strings(assignment):
    strings = []
    for door in assignment.turf.doors.select_related("household"):
        strings.append(door.household.street)
        for person in door.household.residents.all():
            strings.append(person.given_name)
    return strings


def test_offline_canvass_then_sync_then_sign_out(new_context, sign_in_as, captain, assignment):
    from leaven.canvass.models import ContactAttempt, SurveyResponse

    context = new_context(**PHONE)
    page = context.new_page()
    sign_in_as(page, captain)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator("body[data-walk-ready='1']")).to_have_count(1)
    expect(page.locator("body[data-shell-ready='1']")).to_have_count(1)
    wait_until_true(page, "() => navigator.serviceWorker.controller !== null")
    doors = page.locator(".walk-door-button")
    expect(doors).to_have_count(10)
    assert_fits_a_phone(page)

    # The walk list is stored encrypted: the first door's street is not readable in IndexedDB.
    first_street = assignment.turf.doors.order_by("position").first().household.street
    stored = page.evaluate(DUMP_STORAGE)
    assert "leaven-canvass" in stored
    assert first_street not in stored

    context.set_offline(True)
    doors.nth(0).tap()
    page.get_by_label("Not home").check()
    page.get_by_role("button", name="Save this door").tap()
    expect(page.locator(".walk-done")).to_have_count(1)
    doors.nth(1).tap()
    page.get_by_label("Spoke").check()
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save this door").tap()
    expect(page.locator(".walk-done")).to_have_count(2)
    expect(page.locator("#walk-status")).to_contain_text("Waiting to sync: 2")
    assert ContactAttempt.objects.count() == 0

    # Reload with no signal: the service worker serves the page, IndexedDB the list.
    page.reload()
    expect(page.locator("body[data-walk-ready='1']")).to_have_count(1)
    expect(page.locator(".walk-door-button")).to_have_count(10)
    expect(page.locator(".walk-done")).to_have_count(2)
    expect(page.locator("#walk-status")).to_contain_text("Waiting to sync: 2")

    # Back online: the outbox syncs.
    with page.expect_request(lambda r: r.url.endswith("/sync") and r.method == "POST") as sent:
        context.set_offline(False)
    body = sent.value.post_data
    expect(page.locator("#walk-status")).to_contain_text("Synced: 2")
    assert ContactAttempt.objects.count() == 2
    assert SurveyResponse.objects.count() == 1
    supporter = ContactAttempt.objects.get(result="spoke").person
    assert supporter.stage == "supporter"

    # The same sync again (a retry after a lost answer) adds nothing.
    again = page.evaluate(
        """async ([url, body]) => {
             const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
             const r = await fetch(url, {method: 'POST', body, credentials: 'same-origin',
               headers: {'Content-Type': 'application/json', 'X-CSRFToken': token}});
             return r.json();
           }""",
        [f"/canvass/walk/{assignment.pk}/sync", body],
    )
    assert again["created"] == 0 and again["duplicates"] == 2
    assert ContactAttempt.objects.count() == 2
    assert len(json.loads(body)["results"]) == 2

    # Sign out: nothing personal is left in IndexedDB, localStorage or Cache Storage.
    page.get_by_role("button", name="Sign out").tap()
    page.wait_for_url("**/accounts/**")
    left = page.evaluate(DUMP_STORAGE)
    for text in _personal_strings(assignment):
        assert text not in left
    assert "leaven-canvass" not in left


def test_revoked_assignment_is_wiped_on_next_contact(
    new_context, sign_in_as, captain, coordinator, assignment
):
    from leaven.canvass.services import assignment_revoke

    context = new_context(**PHONE)
    page = context.new_page()
    sign_in_as(page, captain)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator(".walk-door-button")).to_have_count(10)
    assignment_revoke(actor=coordinator, assignment=assignment)
    page.reload()
    expect(page.locator("#walk-message")).to_contain_text("taken back")
    expect(page.locator(".walk-door-button")).to_have_count(0)
    left = page.evaluate(DUMP_STORAGE)
    assert '"idb": []' in left.replace('"idb":[]', '"idb": []')


def test_walk_page_in_spanish(new_context, sign_in_as, captain, assignment):
    page = new_context(language="es", **PHONE).new_page()
    sign_in_as(page, captain)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator(".walk-door-button")).to_have_count(10)
    page.locator(".walk-door-button").nth(0).tap()
    expect(page.get_by_role("button", name="Guardar esta puerta")).to_be_visible()
    page.get_by_label("Habló").check()
    expect(page.get_by_text("¿Vendrá a la reunión?")).to_be_visible()
    assert_fits_a_phone(page)


def test_sign_out_from_another_page_wipes_the_walk_list(
    new_context, sign_in_as, captain, assignment
):
    """The service worker sees the sign-out from any page of the site and wipes."""
    context = new_context(**PHONE)
    page = context.new_page()
    sign_in_as(page, captain)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator(".walk-door-button")).to_have_count(10)
    wait_until_true(page, "() => navigator.serviceWorker.controller !== null")
    page.goto("/people/")
    page.get_by_role("button", name="Sign out").tap()
    page.wait_for_url("**/accounts/**")
    wait_until_true(page, "() => indexedDB.databases().then(dbs => dbs.length === 0)")
    left = page.evaluate(DUMP_STORAGE)
    for text in _personal_strings(assignment):
        assert text not in left
    assert "leaven-canvass" not in left


def test_a_failed_first_download_is_tried_again(new_context, sign_in_as, captain, assignment):
    """On a weak signal the first download of the walk list can fail (here the server answers
    500 once): the page tries again by itself and shows the doors, not "no walk list"."""
    context = new_context(service_workers="block", **PHONE)
    page = context.new_page()
    sign_in_as(page, captain)
    asked: list[int] = []

    def flaky(route):
        asked.append(1)
        if len(asked) == 1:
            route.fulfill(status=500, body="busy")
        else:
            route.continue_()

    page.route("**/walklist.json", flaky)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator("body[data-walk-ready='1']")).to_have_count(1)
    expect(page.locator(".walk-door-button")).to_have_count(10)
    assert len(asked) == 2
    expect(page.locator("#walk-message")).to_be_hidden()


def test_a_refused_download_is_not_tried_again(new_context, sign_in_as, captain, assignment):
    """A download the server refuses (403) is not repeated: the page says there is no list."""
    context = new_context(service_workers="block", **PHONE)
    page = context.new_page()
    sign_in_as(page, captain)
    asked: list[int] = []

    def refuse(route):
        asked.append(1)
        route.fulfill(status=403, body="no")

    page.route("**/walklist.json", refuse)
    page.goto(f"/canvass/walk/{assignment.pk}/")
    expect(page.locator("body[data-walk-ready='1']")).to_have_count(1)
    expect(page.locator(".walk-door-button")).to_have_count(0)
    expect(page.locator("#walk-message")).to_be_visible()
    assert len(asked) == 1
