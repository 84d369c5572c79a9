"""Rendering a page: UI strings translated as Jinja's newstyle gettext does, one CSRF token for
every form of a page, the stylesheet where the app is served, and never cached."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.config import Settings
from app.web import create_app
from app.web.rendering import _environment
from tests.journeys import FIRST_LESSON, PROGRAMME, complete, enrol, register

LESSON = f"/learn/{PROGRAMME}/{FIRST_LESSON[0]}/{FIRST_LESSON[1]}"
_TOKENS = re.compile(r'name="csrf_token" value="([0-9a-f]*)"')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def test_ui_strings_are_markup_formatted_with_escaped_values_every_time() -> None:
    template = _environment.from_string(
        '{{ _("Sign in") }}|{{ _("100%% private") }}|{{ _("Hello %(name)s", name=who) }}'
        '|{{ gettext("Sign in") }}|{{ _(word) }}'
        '{% autoescape false %}|{{ _("<b>%(name)s</b>", name=who) }}{% endautoescape %}'
    )
    expected = "Sign in|100% private|Hello &lt;i&gt;|Sign in|3|<b><i></b>"
    for _ in range(2):  # the same on every render
        assert template.render(who="<i>", word=3) == expected


def test_literal_ui_strings_are_translated_into_the_compiled_template() -> None:
    """`_("literal")` becomes text when the template is compiled; a method called `_`, or a
    call with variables, is still called when the page is rendered."""

    class Thing:
        def _(self, text: str) -> str:
            return f"method: {text}"

    template = _environment.from_string(
        '{{ _("Don\'t & <b>keep</b>") }}|{{ thing._("x") }}|{{ _("%(n)s left", n=2) }}'
    )
    assert template.render(thing=Thing()) == "Don't & <b>keep</b>|method: x|2 left"
    source = _environment.loader.get_source(_environment, "base.html")[0]  # type: ignore[union-attr]
    compiled = _environment.compile(source, "base.html", raw=True)
    assert "Skip to main content" in compiled and "'Skip to main content'" not in compiled


def test_every_form_on_a_lesson_page_carries_the_one_token_that_works(
    client: TestClient,
) -> None:
    register(client)
    enrol(client)
    page = client.get(LESSON)
    tokens = _TOKENS.findall(page.text)
    assert len(tokens) == 3 and len(set(tokens)) == 1 and tokens[0]  # sign out, reflect, done
    assert page.headers["cache-control"] == "no-store"
    assert complete(client, *FIRST_LESSON).status_code == 303


def test_the_stylesheet_is_linked_under_the_apps_root_path_whatever_the_host(
    settings: Settings,
) -> None:
    """Root-relative: a page never repeats the Host header it was asked with."""
    app = create_app(settings)
    with TestClient(app, root_path="/peerpath") as mounted:
        page = mounted.get("/login")
        assert _STYLESHEET.findall(page.text) == ["/peerpath/static/style.css"]
    with TestClient(app, base_url="https://evil.example") as client:
        page = client.get("/login")
        assert _STYLESHEET.findall(page.text) == ["/static/style.css"]
        assert "evil.example" not in page.text
        assert page.headers["cache-control"] == "no-store"


def test_the_stylesheet_link_is_served(client: TestClient) -> None:
    href = _STYLESHEET.findall(client.get("/login").text)[0]
    assert client.get(href).status_code == 200
