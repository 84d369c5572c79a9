"""Evidence → competency levels → eligibility, as the trainee sees it on the dashboard and as
`enrolment_standing` gives it to certificate issuance."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.assessment import enrolment_standing
from app.store import Database
from app.store.learning import Enrolment
from tests.assessment.conftest import post
from tests.assessment.test_rating import as_trainer, open_session, rate
from tests.journeys import PROGRAMME, api_token

OVERVIEW = f"/assess/{PROGRAMME}/listening-check"


def pass_the_check(trainee: TestClient) -> None:
    started = post(trainee, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    page = started.headers["location"]
    answers = {"q1.option": "b", "q2.value": "false", "q3.options": ["a", "c"]}
    post(trainee, page, {**answers, "action": "submit"}, from_page=page)


def standing(db: Database):  # type: ignore[no-untyped-def]
    with db.unit_of_work(write=False) as session:
        return enrolment_standing(session, session.scalars(select(Enrolment)).one())


def test_levels_and_eligibility_follow_the_evidence(
    trainee: TestClient, browser: Callable[[], TestClient], db: Database
) -> None:
    before = trainee.get("/dashboard").text
    assert before.count("Not yet assessed") == 2
    first = standing(db)
    assert not first.eligibility.eligible
    assert all(not first.assessed(c) for c in ("active-listening", "ethical-boundaries"))

    pass_the_check(trainee)
    dashboard = trainee.get("/dashboard").text
    assert "Not yet assessed" not in dashboard
    assert "<strong>Developing</strong>" in dashboard
    assert "Knowledge check listening-check: best 100%, meets the 80% needed." in dashboard
    assert (
        "Observed role-play listening-role-play: not rated yet (needed for competent)." in dashboard
    )
    assert "Reach at least competent in 2 more core competencies" in dashboard
    middle = standing(db)
    assert middle.levels["active-listening"].level == "developing"
    assert middle.progress.knowledge_results == {"listening-check": True}

    # Two trainers rate the role-play: open questions 4 and 3 (mean 3.5), confidentiality 4 and 4.
    rhea, sol = as_trainer(browser, db, "Rhea"), as_trainer(browser, db, "Sol")
    session_id = open_session(rhea)
    rate(rhea, session_id, {"open-questions": (4, ""), "confidentiality": (4, "")})
    rate(sol, session_id, {"open-questions": (3, ""), "confidentiality": (4, "")})
    after = standing(db)
    assert after.levels["active-listening"].level == "proficient"
    assert after.levels["ethical-boundaries"].level == "proficient"
    assert any(
        "latest mean rating 3.50" in line for line in after.levels["active-listening"].explanation
    )
    unmet = " ".join(after.eligibility.unmet)
    assert "core competenc" not in unmet
    assert "Complete 2 more modules" in unmet and "more hours of training" in unmet
    dashboard = trainee.get("/dashboard").text
    assert "<strong>Proficient</strong>" in dashboard
    assert "Not yet eligible" in dashboard and "Complete 2 more modules" in dashboard


def test_the_api_shows_the_same_levels(trainee: TestClient, db: Database) -> None:
    pass_the_check(trainee)
    api = TestClient(trainee.app)
    auth = api_token(api, "trainee.one@example.org")
    api.cookies.clear()
    enrolment = api.get(f"/api/v1/enrolments/{PROGRAMME}", headers=auth).json()
    assert {c["level"] for c in enrolment["competencies"]} == {"Developing"}
    assert enrolment["certificate_status"] == "Not yet eligible"


def test_learner_forms_and_api_writes_need_csrf(trainee: TestClient) -> None:
    started = post(trainee, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    attempt = started.headers["location"]
    for path, data in {
        f"{OVERVIEW}/attempts": {},
        attempt: {"q1.option": "b", "action": "submit"},
    }.items():
        refused = trainee.post(path, data=data, follow_redirects=False)
        assert refused.status_code == 403, path
    attempt_id = attempt.rsplit("/", 1)[1]
    base = f"/api/v1/programmes/{PROGRAMME}/assessments/listening-check/attempts"
    for method, path, body in (
        ("POST", base, None),
        ("PUT", f"/api/v1/attempts/{attempt_id}/answers", {"answers": {}}),
        ("POST", f"/api/v1/attempts/{attempt_id}/submit", {"answers": {}}),
    ):
        refused = trainee.request(method, path, json=body)  # cookie, no X-CSRF-Token
        assert refused.status_code == 403, path
        assert refused.json()["type"].endswith("/csrf-token-invalid")
    assert trainee.get(attempt).status_code == 200  # still open: nothing was submitted
