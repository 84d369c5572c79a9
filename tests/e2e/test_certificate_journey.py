"""The whole way to a certificate in a real browser: a trainer starts a cohort; a trainee
registers, joins it with the join code, reads and completes every lesson and passes the
knowledge check; the trainer rates the observed role-play and issues the certificate from the
trainee's page; a verifier types the certificate ID on /verify and sees that it is valid.
Every page type this journey adds to the other browser tests passes axe-core.

Only creating the trainer's account is not done in the browser: staff accounts have no sign-up
page, so `peerpath user create` makes it (the `make_trainer` fixture)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from bench.harness import PASSWORD, Server
from tests.e2e.pages import Audit

PROGRAMME = "sample-programme"
LESSONS = 5  # welcome (2), listening-basics (2), boundaries-basics (1)
# The knowledge check's right answers, as the trainee reads them on the page.
RIGHT_ANSWERS = [
    "How have your nights been?",
    "False",
    "Giving advice straight away",
    "Changing the subject",
]
HOLDER = "Kofi Mensah"


@pytest.fixture
def open_browser(browser: Browser) -> Iterator[Callable[[], Page]]:
    """A new browser (own cookies) per person. axe-core is injected through the DevTools
    protocol, which the app's CSP does not govern; the pages get no exemption."""
    contexts: list[BrowserContext] = []

    def _open() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def _sign_in(page: Page, server: Server, email: str) -> None:
    page.goto(f"{server.base_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _start_cohort(trainer: Page, server: Server, audit: Audit) -> tuple[int, str]:
    trainer.goto(f"{server.base_url}/train")
    trainer.get_by_label("Cohort name").fill(f"Certificate journey {uuid.uuid4().hex[:6]}")
    trainer.get_by_label("Programme").select_option(PROGRAMME)
    trainer.get_by_role("button", name="Create cohort").click()
    trainer.wait_for_url(re.compile(r"/train/cohorts/\d+/members"))
    audit.check(trainer, "train-members")
    found = re.search(r"/train/cohorts/(\d+)/", trainer.url)
    assert found, trainer.url
    return int(found.group(1)), trainer.locator("code.join-code").first.inner_text().strip()


def _register_and_join(trainee: Page, server: Server, join_code: str, audit: Audit) -> str:
    email = f"trainee-{uuid.uuid4().hex[:10]}@example.org"
    trainee.goto(f"{server.base_url}/register")
    trainee.get_by_label("Your name").fill(HOLDER)
    trainee.get_by_label("Email address").fill(email)
    trainee.get_by_label("Choose a password").fill(PASSWORD)
    trainee.get_by_role("button", name="Create account").click()
    trainee.wait_for_url(re.compile(r"/dashboard"))
    trainee.get_by_role("link", name=re.compile("Join their group")).click()
    trainee.wait_for_url(re.compile(r"/join"))
    audit.check(trainee, "join", screenshot=False)
    trainee.get_by_label("Join code").fill(join_code)
    trainee.get_by_role("button", name="Join group").click()
    trainee.wait_for_url(re.compile(rf"/learn/{PROGRAMME}\?enrolled=1"))
    return email


def _read_every_lesson(trainee: Page) -> None:
    trainee.get_by_role("link", name="Start the first lesson").click()
    completed = 0
    while trainee.get_by_role("button", name="Mark as complete").count():
        trainee.get_by_role("button", name="Mark as complete").click()
        trainee.wait_for_load_state()
        completed += 1
        assert completed <= LESSONS, f"more lessons than the sample has; now on {trainee.url}"
    assert completed == LESSONS, f"{completed} of {LESSONS} lessons completed; on {trainee.url}"
    assert trainee.url.endswith(f"/learn/{PROGRAMME}?completed=1"), trainee.url


def _pass_the_knowledge_check(trainee: Page, server: Server) -> None:
    trainee.goto(f"{server.base_url}/learn/{PROGRAMME}/listening-basics/open-questions")
    trainee.locator("a[href$='/listening-check']").first.click()
    trainee.get_by_role("button", name=re.compile("Start")).click()
    trainee.wait_for_url(re.compile(r"/attempts/\d+$"))
    for answer in RIGHT_ANSWERS:
        trainee.get_by_label(answer, exact=True).check()
    trainee.get_by_role("button", name="Submit", exact=True).click()
    trainee.wait_for_url(re.compile(r"/attempts/\d+/review"))
    result = trainee.inner_text("main")
    assert "passed" in result.lower(), result[:400]


def _rate_the_role_play(trainer: Page, server: Server, trainee_email: str) -> None:
    trainer.goto(f"{server.base_url}/train/roleplays")
    trainer.get_by_label("Trainee's email").fill(trainee_email)
    trainer.get_by_role("button", name="Find the trainee").click()
    trainer.wait_for_url(re.compile(r"/train/enrolments/\d+/roleplays"))
    trainer.get_by_role("button", name=re.compile(r"^Open: ")).first.click()
    trainer.wait_for_url(re.compile(r"/train/roleplays/\d+"))
    groups = {
        name
        for name in trainer.locator("input[type=radio]").evaluate_all("els => els.map(e => e.name)")
        if name.startswith("level.")
    }
    assert groups, "the rating form has no rubric"
    for group in groups:  # competent on every rubric item
        trainer.locator(f"input[type=radio][name='{group}'][value='3']").check()
    trainer.get_by_role("button", name="Submit rating").click()
    trainer.wait_for_url(re.compile(r"saved=1"))


def _issue_certificate(trainer: Page, server: Server, cohort_id: int, audit: Audit) -> str:
    trainer.goto(f"{server.base_url}/train/cohorts/{cohort_id}/members")
    trainer.get_by_role("link", name=HOLDER).click()
    trainer.wait_for_url(re.compile(r"/train/cohorts/\d+/trainees/\d+"))
    panel = trainer.locator("#certificate")
    assert "eligible" in panel.inner_text() and "not yet" not in panel.inner_text()
    audit.check(trainer, "train-trainee-eligible")
    assert trainer.get_by_label("Name as it will be printed").input_value() == HOLDER
    trainer.get_by_role("button", name="Issue certificate").click()
    trainer.wait_for_url(re.compile(r"issued="))
    audit.check(trainer, "train-trainee-certificate", screenshot=False)
    certificate_id = panel.locator("code.certificate-id").inner_text().strip()
    trainer.goto(f"{server.base_url}/train/cohorts/{cohort_id}")
    trainer.get_by_role("link", name="Certificates", exact=True).click()
    trainer.wait_for_url(re.compile(r"/train/cohorts/\d+/certificates"))
    audit.check(trainer, "train-certificates")
    assert certificate_id in trainer.inner_text("main")
    return certificate_id


def _check_as_a_verifier(verifier: Page, server: Server, certificate_id: str, audit: Audit) -> None:
    verifier.goto(f"{server.base_url}/verify")
    verifier.get_by_label("Certificate ID").fill(certificate_id)
    verifier.get_by_role("button", name="Check", exact=True).click()
    verifier.wait_for_url(re.compile(rf"/verify/{certificate_id}"))
    audit.check(verifier, "verify-valid")
    verdict = verifier.locator(".verdict-status").inner_text().strip()
    assert verdict == "Valid", verdict
    assert HOLDER in verifier.inner_text("main")


def test_a_trainee_earns_a_certificate_that_a_verifier_checks(
    open_browser: Callable[[], Page], server: Server, make_trainer: Callable[[], str]
) -> None:
    audit = Audit()
    trainer, trainee, verifier = open_browser(), open_browser(), open_browser()
    _sign_in(trainer, server, make_trainer())
    cohort_id, join_code = _start_cohort(trainer, server, audit)

    trainee_email = _register_and_join(trainee, server, join_code, audit)
    _read_every_lesson(trainee)
    _pass_the_knowledge_check(trainee, server)
    _rate_the_role_play(trainer, server, trainee_email)

    certificate_id = _issue_certificate(trainer, server, cohort_id, audit)
    assert re.fullmatch(r"[A-Z0-9-]{20,}", certificate_id), certificate_id
    trainee.goto(f"{server.base_url}/dashboard")
    audit.check(trainee, "dashboard-certificate")
    assert certificate_id in trainee.inner_text("main")

    _check_as_a_verifier(verifier, server, certificate_id, audit)
    print("\n".join(audit.checked))
    assert not audit.problems, "\n".join(audit.problems)
