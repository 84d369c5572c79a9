"""A trainer in a real browser: finds a trainee, opens a role-play session and rates it on
the rubric; every page passes axe-core with no serious or critical violation."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser

from bench.harness import PASSWORD, Server, register_trainee
from tests.e2e.pages import Audit

PROGRAMME = "sample-programme"


def test_a_trainer_rates_a_role_play(
    browser: Browser, server: Server, make_trainer: Callable[[], str]
) -> None:
    trainee = register_trainee(server.base_url, PROGRAMME)
    trainer_email = make_trainer()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    audit = Audit()
    try:
        page.goto(f"{server.base_url}/login")
        page.get_by_label("Email address").fill(trainer_email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(f"{server.base_url}/train")
        audit.check(page, "trainer-home")
        response = page.goto(f"{server.base_url}/train/roleplays")
        if response is None or response.status == 404:
            pytest.skip("role-play rating does not exist yet")
        audit.check(page, "rating-find", screenshot=False)
        page.get_by_label("Trainee's email").fill(trainee.email)
        page.get_by_role("button", name="Find the trainee").click()
        page.wait_for_url(re.compile(r"/train/enrolments/\d+/roleplays"))
        audit.check(page, "rating-trainee", screenshot=False)
        page.get_by_role("button", name=re.compile(r"^Open: ")).first.click()
        page.wait_for_url(re.compile(r"/train/roleplays/\d+"))
        groups = {
            name
            for name in page.locator("input[type=radio]").evaluate_all(
                "els => els.map(e => e.name)"
            )
            if name.startswith("level.")
        }
        assert groups, "the rating form has no rubric"
        for group in groups:
            page.locator(f"input[type=radio][name='{group}'][value='3']").check()
        audit.check(page, "rating-form")
        page.get_by_role("button", name="Submit rating").click()
        page.wait_for_load_state()
        audit.check(page, "rating-saved", screenshot=False)
        assert "Edit your rating" in page.inner_text("main")
    finally:
        context.close()
    assert not audit.problems, "\n".join(audit.problems)
