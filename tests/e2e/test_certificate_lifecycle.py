"""Renewing and re-issuing a certificate in a real browser, from the trainee's page: every page
type of those two actions (the panel's forms, a refusal, a form with errors, the confirmation
pages, the panel with earlier versions) passes axe-core, as the issue and revoke pages do in
`test_certificate_journey.py`.

The certificate itself is issued directly in the server's database, expiring in 30 days (the
renewal window), so this test does not repeat the long way to eligibility."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Locator, Page
from sqlalchemy import select

from app.config import Settings
from app.store import connect
from app.store.accounts import User
from bench.harness import Server
from tests.credentials.issuing import issue_directly
from tests.e2e.pages import Audit
from tests.e2e.test_certificate_journey import (
    _register_and_join,
    _sign_in,
    _start_cohort,
    open_browser,  # noqa: F401 - the fixture
)


def _certify_expiring_in_30_days(server: Server, email: str) -> tuple[int, str]:
    """Issue the trainee's certificate in the server's database; returns their id and its ID."""
    settings = Settings(
        database_url=server.database_url, data_dir=server.data_dir, base_url=server.base_url
    )
    database = connect(settings)
    try:
        with database.unit_of_work(write=False) as session:
            user_id = session.scalars(select(User.id).where(User.email == email)).one()
        return user_id, issue_directly(database, settings, user_id, expires_in=30).public_id
    finally:
        database.dispose()


def _action(trainer: Page, summary: str) -> Locator:
    """One of the panel's action forms, opened."""
    details = trainer.locator("#certificate details", has_text=summary)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details


def _submit(trainer: Page, form: Page | Locator, fields: dict[str, str], button: str) -> str:
    """Fill the fields by label, press the button, and return the text of the page it leads to."""
    for label, value in fields.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name=button).click()
    trainer.wait_for_load_state()
    return trainer.inner_text("main")


def _correct_and_confirm(
    trainer: Page, audit: Audit, action: str, fields: dict[str, str], confirm: str
) -> str:
    """On a form shown again with its errors: correct it, check the confirmation page, confirm.
    Returns the new certificate's ID."""
    _submit(trainer, trainer, fields, "Continue")
    audit.check(trainer, f"train-certificate-{action}-confirm", screenshot=False)
    done = {"renew": "renewed", "reissue": "reissued"}[action]
    trainer.get_by_role("button", name=confirm).click()
    trainer.wait_for_url(re.compile(rf"{done}="))
    return trainer.url.split(f"{done}=")[1].split("#")[0]


HOURS, ETHICS = "Continuing-education hours", "Of these, hours of ethics"
NEW_NAME, NOTE = "New name as it will be printed", "Note for the audit log"


def test_a_trainer_renews_and_reissues_a_certificate_on_accessible_pages(
    open_browser: Callable[[], Page],  # noqa: F811
    server: Server,
    make_trainer: Callable[[], str],
) -> None:
    audit = Audit()
    trainer, trainee = open_browser(), open_browser()
    _sign_in(trainer, server, make_trainer())
    cohort_id, join_code = _start_cohort(trainer, server, audit)
    email = _register_and_join(trainee, server, join_code, audit)
    user_id, first_id = _certify_expiring_in_30_days(server, email)
    trainee_page = f"{server.base_url}/train/cohorts/{cohort_id}/trainees/{user_id}"

    trainer.goto(trainee_page)
    for summary in ("Renew…", "Re-issue with a new name…", "Revoke this certificate…"):
        _action(trainer, summary)
    audit.check(trainer, "train-trainee-certificate-actions", screenshot=False)

    renew = _action(trainer, "Renew…")
    refused = _submit(trainer, renew, {HOURS: "2", ETHICS: "0"}, "Continue")
    assert "Record 4 hours of continuing education (2 given)." in refused
    audit.check(trainer, "train-certificate-refused", screenshot=False)

    trainer.goto(trainee_page)
    renew = _action(trainer, "Renew…")
    invalid = _submit(trainer, renew, {HOURS: "many", ETHICS: "1"}, "Continue")
    assert "Enter the hours as a number" in invalid
    audit.check(trainer, "train-certificate-renew-invalid", screenshot=False)
    renewed_id = _correct_and_confirm(
        trainer, audit, "renew", {HOURS: "5"}, f"Yes, renew {first_id}"
    )
    assert "Earlier versions" in trainer.inner_text("#certificate")
    audit.check(trainer, "train-trainee-certificate-history")

    reissue = _action(trainer, "Re-issue with a new name…")
    invalid = _submit(trainer, reissue, {NEW_NAME: "   ", NOTE: "Name change"}, "Continue")
    assert "Write the new name as it should be printed." in invalid
    audit.check(trainer, "train-certificate-reissue-invalid", screenshot=False)
    reissued_id = _correct_and_confirm(
        trainer, audit, "reissue", {NEW_NAME: "Kofi A. Mensah"}, "Yes, re-issue as Kofi A. Mensah"
    )
    panel = trainer.inner_text("#certificate")
    assert "Kofi A. Mensah" in panel and reissued_id in panel
    assert first_id in panel and renewed_id in panel  # the earlier versions

    revoke = _action(trainer, "Revoke this certificate…")
    revoke.get_by_label("Issued in error").check()
    _submit(trainer, revoke, {NOTE: "Checking the confirmation page"}, "Continue")
    audit.check(trainer, "train-certificate-revoke-confirm", screenshot=False)

    print("\n".join(audit.checked))
    assert not audit.problems, "\n".join(audit.problems)
