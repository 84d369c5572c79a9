"""People using PeerPath in a real browser: a trainee from registration through every lesson,
an assessment attempt and the dashboard; a verifier checking a certificate ID. Every page type
passes axe-core with no serious or critical violation, and no script ever runs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from bench.harness import PASSWORD, Server
from tests.e2e.pages import Audit

PROGRAMME = "sample-programme"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # axe-core is injected by the test through the DevTools protocol, which the page's
    # CSP (script-src 'none') does not govern; the app's own pages get no exemption.
    made = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    assert not dialogs, f"a script opened a dialog: {dialogs}"


def _register(page: Page, server: Server, audit: Audit) -> str:
    page.goto(f"{server.base_url}/")
    audit.check(page, "home")
    page.goto(f"{server.base_url}/register")
    audit.check(page, "register")
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    page.get_by_label("Your name").fill("Amara Okafor")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    return email


def test_a_trainee_registers_enrols_reads_completes_and_attempts(
    page: Page, server: Server
) -> None:
    audit = Audit()
    _register(page, server, audit)
    audit.check(page, "dashboard-new")

    page.goto(f"{server.base_url}/learn/{PROGRAMME}")
    audit.check(page, "outline")
    page.get_by_role("button", name="Start this programme").click()
    page.wait_for_url(re.compile(r"enrolled=1"))

    first_lesson = page.locator("main a[href^='/learn/']").filter(has_not_text="glossary")
    page.goto(f"{server.base_url}{first_lesson.first.get_attribute('href')}")
    if "/learn/" in page.url and page.url.count("/") < 6:  # a module page: open its lesson
        page.locator("main a[href^='/learn/']").first.click()
    audit.check(page, "lesson")

    assessment_links: list[str] = []
    completed = 0
    for _ in range(40):
        if not page.get_by_role("button", name="Mark as complete").count():
            break
        for link in page.locator("a[href^='/assess/']").all():
            href = link.get_attribute("href")
            if href and href not in assessment_links:
                assessment_links.append(href)
        page.get_by_role("button", name="Mark as complete").click()
        page.wait_for_load_state()
        completed += 1
    assert completed >= 3, f"only {completed} lessons could be completed; now on {page.url}"
    audit.check(page, "after-last-lesson", screenshot=False)

    if assessment_links:
        page.goto(f"{server.base_url}{assessment_links[0]}")
        audit.check(page, "assessment")
        page.get_by_role("button", name=re.compile("Start")).click()
        page.wait_for_url(re.compile(r"/attempts/"))
        audit.check(page, "attempt")
        for group in {
            n for n in page.locator("input[type=radio]").evaluate_all("els => els.map(e => e.name)")
        }:
            page.locator(f"input[type=radio][name='{group}']").first.check()
        page.get_by_role("button", name="Submit", exact=True).click()
        page.wait_for_load_state()
        audit.check(page, "attempt-result")

    page.goto(f"{server.base_url}/dashboard")
    audit.check(page, "dashboard")
    assert "%" in page.inner_text("main")
    page.goto(f"{server.base_url}/account")
    audit.check(page, "account")
    print("\n".join(audit.checked))
    assert not audit.problems, "\n".join(audit.problems)


def test_a_signed_out_visitor_sees_sign_in_and_help(page: Page, server: Server) -> None:
    audit = Audit()
    page.goto(f"{server.base_url}/login")
    audit.check(page, "login")
    page.get_by_label("Email address").fill("nobody@example.org")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    audit.check(page, "login-error", screenshot=False)
    page.goto(f"{server.base_url}/help")
    audit.check(page, "help", screenshot=False)
    page.goto(f"{server.base_url}/learn/no-such-programme")
    audit.check(page, "not-found", screenshot=False)
    assert not audit.problems, "\n".join(audit.problems)


def test_a_verifier_checks_a_certificate_id(page: Page, server: Server) -> None:
    audit = Audit()
    response = page.goto(f"{server.base_url}/verify")
    if response is None or response.status == 404:
        pytest.skip("the verification page does not exist yet")
    audit.check(page, "verify")
    page.get_by_label("Certificate ID").fill("PP-AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGG")
    page.get_by_role("button", name="Check", exact=True).click()
    page.wait_for_load_state()
    audit.check(page, "verify-unknown")
    text = page.inner_text("main").lower()
    assert "not" in text or "no certificate" in text, text[:400]
    assert not audit.problems, "\n".join(audit.problems)
