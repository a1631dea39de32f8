"""Languages: English and Spanish pages, chosen by cookie, by browser, or by the switch."""

from __future__ import annotations

import re

from django.conf import settings


def _lang(response):
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "no <html lang=...>"
    return match.group(1)


def test_default_is_english(client, tree):
    """Without any preference the sign-in page is in English."""
    assert _lang(client.get("/accounts/login/")) == "en"


def test_accept_language_spanish(client, tree):
    """A browser asking for Spanish gets <html lang="es">."""
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert response.status_code == 200
    assert _lang(response) == "es"


def test_unsupported_language_falls_back_to_english(client, tree):
    """A language Leaven does not offer falls back to English."""
    assert _lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de")) == "en"


def test_language_cookie_spanish(coordinator, client_for, make_person):
    """The language cookie makes signed-in pages Spanish, a person's page included."""
    person = make_person()
    client = client_for(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    for url in ["/", "/people/", f"/people/{person.pk}/", "/units/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _lang(response) == "es", url


def test_cookie_wins_over_browser(client, tree):
    """A chosen language (cookie) wins over the browser's preference."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert _lang(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es")) == "en"


def test_setlang_switches_language(viewer, client_for):
    """Posting to /i18n/setlang/ sets the cookie and sends back to the page."""
    client = client_for(viewer)
    assert _lang(client.get("/")) == "en"
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/people/"})
    assert response.status_code == 302
    assert response["Location"] == "/people/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert _lang(client.get("/people/")) == "es"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert _lang(client.get("/")) == "en"


def test_setlang_ignores_unknown_language_and_foreign_next(client, tree):
    """An unknown language changes nothing; a `next` off the site is not followed."""
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_switch_is_on_every_page(viewer, client_for):
    """Every page carries the language switch, each button marked with its own language."""
    content = client_for(viewer).get("/").content.decode()
    assert 'action="/i18n/setlang/"' in content
    buttons = [b for b in re.findall(r"<button[^>]*>", content) if 'name="language"' in b]
    pairs = {
        (re.search(r'value="([^"]+)"', b).group(1), re.search(r'lang="([^"]+)"', b).group(1))
        for b in buttons
    }
    assert pairs == {("en", "en"), ("es", "es")}


def test_outsider_gets_the_same_404_in_spanish(outsider, client_for, make_person):
    """In Spanish too, a committee A person is a 404 for the outsider, like a missing one."""
    person = make_person()
    client = client_for(outsider)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    hidden = client.get(f"/people/{person.pk}/")
    missing = client.get(f"/people/{person.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert _lang(hidden) == _lang(missing) == "es"
    assert person.given_name not in hidden.content.decode()
