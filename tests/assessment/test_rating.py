"""Observed role-plays: a trainer opens and rates a session, a second trainer rates it blind,
the page shows agreement, a rating of 1 becomes a follow-up, edits are optimistic (409), and
only the trainee's own trainer (or any trainer, if no cohort) may rate."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.scoring import weighted_kappa
from app.store import Database
from app.store.audit import AuditEntry
from app.store.learning import Cohort, Enrolment
from tests.assessment.conftest import post, set_role
from tests.journeys import PROGRAMME, register

TRAINEE = "trainee.one@example.org"


def as_trainer(browser: Callable[[], TestClient], db: Database, name: str) -> TestClient:
    client = browser()
    email = register(client, f"{name.lower()}@example.org", name=name)
    set_role(db, email, "trainer")
    return client


def open_session(trainer: TestClient) -> int:
    found = post(
        trainer, "/train/roleplays", {"email": TRAINEE, "programme_id": PROGRAMME},
        from_page="/train/roleplays",
    )  # fmt: skip
    assert found.status_code == 303, found.text
    trainee_page = found.headers["location"]
    assert "Observed role-play" in trainer.get(trainee_page).text
    opened = post(
        trainer, trainee_page, {"assessment_id": "listening-role-play"}, from_page=trainee_page
    )
    assert opened.status_code == 303, opened.text
    return int(opened.headers["location"].rsplit("/", 1)[1])


def rate(
    trainer: TestClient,
    session_id: int,
    levels: dict[str, tuple[int, str]],
    version: int | None = None,
) -> int:
    data = {f"level.{item}": str(level) for item, (level, _) in levels.items()}
    data |= {f"comment.{item}": comment for item, (_, comment) in levels.items()}
    if version is not None:
        data["version"] = str(version)
    page = f"/train/roleplays/{session_id}"
    return post(trainer, f"{page}/rating", data, from_page=page).status_code


@pytest.fixture
def trainers(
    trainee: TestClient, browser: Callable[[], TestClient], db: Database
) -> tuple[TestClient, TestClient]:
    return as_trainer(browser, db, "Rhea"), as_trainer(browser, db, "Sol")


def test_blind_second_rating_agreement_and_follow_up(
    trainee: TestClient, trainers: tuple[TestClient, TestClient], db: Database
) -> None:
    rhea, sol = trainers
    session_id = open_session(rhea)
    page = f"/train/roleplays/{session_id}"
    form = rhea.get(page).text
    assert "Potentially harmful: promises total secrecy." in form  # descriptors beside levels
    assert rate(rhea, session_id, {"open-questions": (3, ""), "confidentiality": (1, "")}) == 422
    assert rate(
        rhea, session_id,
        {"open-questions": (3, "RHEA-NOTE asks open questions"),
         "confidentiality": (1, "RHEA-NOTE promised to keep everything secret")},
    ) == 303  # fmt: skip

    blind = sol.get(page).text
    assert "RHEA-NOTE" not in blind and "Rhea" not in blind
    assert "1 other trainer has rated this session" in blind
    assert "Agreement between raters" not in blind

    assert rate(
        sol, session_id,
        {"open-questions": (4, "SOL-NOTE follows the lead"),
         "confidentiality": (2, "SOL-NOTE vague about limits")},
    ) == 303  # fmt: skip
    after = sol.get(page).text
    assert "RHEA-NOTE asks open questions" in after and "SOL-NOTE follows the lead" in after
    expected = weighted_kappa([3, 1], [4, 2])
    assert f"{expected:.2f}" in after and "weighted kappa" in after
    assert "within one level" in after
    assert f"{expected:.2f}" in rhea.get(page).text

    # The 1 is a follow-up until a trainer resolves it, with a note.
    assert "Needs follow-up." in after
    with db.unit_of_work(write=False) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        from app.store.assessment import HarmfulFollowUp

        followup = session.scalars(select(HarmfulFollowUp)).one()
    assert actions.count("rating.recorded") == 2
    assert followup.item_id == "confidentiality" and not followup.resolved

    dashboard = trainee.get("/dashboard").text
    assert "Talk through and resolve 1 role-play rating of 1" in dashboard
    assert "Observed role-play listening-role-play" in dashboard

    resolve = f"/train/followups/{followup.id}/resolve"
    assert post(sol, resolve, {"note": ""}, from_page=page).status_code == 422
    assert (
        post(sol, resolve, {"note": "Talked it through on 23 Nov."}, from_page=page).status_code
        == 303
    )
    assert "Talked it through on 23 Nov." in sol.get(page).text
    with db.unit_of_work(write=False) as session:
        assert "harmful-rating.resolved" in session.scalars(select(AuditEntry.action)).all()
    assert "Talk through and resolve" not in trainee.get("/dashboard").text


def test_a_stale_edit_gets_409(
    trainee: TestClient, trainers: tuple[TestClient, TestClient]
) -> None:
    rhea, _ = trainers
    session_id = open_session(rhea)
    levels = {"open-questions": (3, ""), "confidentiality": (3, "")}
    assert rate(rhea, session_id, levels) == 303
    edit = rhea.get(f"/train/roleplays/{session_id}?edit=1").text
    assert 'name="version" value="1"' in edit
    assert rate(rhea, session_id, {**levels, "open-questions": (4, "")}, version=1) == 303
    # The same edit from a tab opened before that change: refused, nothing overwritten.
    assert rate(rhea, session_id, {**levels, "open-questions": (2, "")}, version=1) == 409
    assert rate(rhea, session_id, {**levels, "open-questions": (2, "")}) == 409
    page = rhea.get(f"/train/roleplays/{session_id}").text
    assert "<strong>4</strong>" in page and "<strong>2</strong>" not in page


def test_only_the_trainees_own_trainer_may_rate(
    trainee: TestClient,
    trainers: tuple[TestClient, TestClient],
    browser: Callable[[], TestClient],
    db: Database,
) -> None:
    rhea, sol = trainers
    session_id = open_session(rhea)
    page = f"/train/roleplays/{session_id}"
    # The trainee joins Sol's cohort: from now on only Sol (or an admin) may assess them.
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        from app.store.accounts import User

        sol_user = session.scalars(select(User).where(User.display_name == "Sol")).one()
        cohort = Cohort(
            name="Sol's group", programme_id=PROGRAMME, release_id=enrolment.release_id,
            trainer_id=sol_user.id, join_code="SOLGROUP1",
        )  # fmt: skip
        session.add(cohort)
        session.flush()
        enrolment.cohort_id = cohort.id
    assert rhea.get(page).status_code == 403
    assert rate(rhea, session_id, {"open-questions": (3, ""), "confidentiality": (3, "")}) == 403
    assert sol.get(page).status_code == 200
    assert (
        rate(sol, session_id, {"open-questions": (1, "dismissive"), "confidentiality": (3, "")})
        == 303
    )
    with db.unit_of_work(write=False) as session:
        from app.assessment import open_followups

        by_name = {u.display_name: u for u in session.scalars(select(User))}
        assert [f.item_id for f in open_followups(session, by_name["Sol"])] == ["open-questions"]
        assert open_followups(session, by_name["Rhea"]) == []
        assert open_followups(session, by_name["Tess Trainee"]) == []
    # Trainees never reach trainer pages, not even their own session.
    assert trainee.get(page).status_code == 403
    assert trainee.get("/train/roleplays").status_code == 403
    admin = browser()
    admin_email = register(admin, "admin@example.org", name="Ada")
    set_role(db, admin_email, "admin")
    assert admin.get(page).status_code == 200


def test_every_rating_form_needs_its_csrf_token(
    trainee: TestClient, trainers: tuple[TestClient, TestClient], db: Database
) -> None:
    rhea, _ = trainers
    session_id = open_session(rhea)
    with db.unit_of_work(write=False) as session:
        enrolment_id = session.scalars(select(Enrolment.id)).one()
    forms = {
        "/train/roleplays": {"email": TRAINEE, "programme_id": PROGRAMME},
        f"/train/enrolments/{enrolment_id}/roleplays": {"assessment_id": "listening-role-play"},
        f"/train/roleplays/{session_id}/rating": {"level.open-questions": "3"},
        "/train/followups/1/resolve": {"note": "x"},
        "/train/free-text/1/confirm": {"note": "x"},
    }
    for path, data in forms.items():
        for token in (None, "forged"):
            sent = data if token is None else {**data, "csrf_token": token}
            response = rhea.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, path
            assert "did not come from this site" in response.text


def test_two_edits_racing_on_the_same_version_one_loses_with_stale_edit(
    trainee: TestClient, trainers: tuple[TestClient, TestClient], db: Database
) -> None:
    """The version column, not only the form's version field: an edit computed from a rating
    another request has changed since is refused at flush time."""
    from app.assessment import StaleEdit, submit_rating
    from app.store.accounts import User
    from app.store.assessment import RolePlayRating, RolePlaySession

    rhea, _ = trainers
    session_id = open_session(rhea)
    assert rate(rhea, session_id, {"open-questions": (3, ""), "confidentiality": (3, "")}) == 303
    slow = db.session()  # a request that loaded the rating (version 1) and is still working
    rp = slow.get(RolePlaySession, session_id)
    trainer = slow.scalars(select(User).where(User.display_name == "Rhea")).one()
    loaded = slow.scalars(select(RolePlayRating)).one()
    assert loaded.version == 1
    slow.commit()  # objects stay loaded (expire_on_commit=False), as in a long request
    with db.unit_of_work() as fast:
        submit_rating(
            fast, fast.get(RolePlaySession, session_id),
            fast.scalars(select(User).where(User.display_name == "Rhea")).one(),
            {"open-questions": (4, ""), "confidentiality": (3, "")}, expected_version=1,
        )  # fmt: skip
    assert rp is not None
    with pytest.raises(StaleEdit):
        submit_rating(
            slow, rp, trainer, {"open-questions": (1, "x"), "confidentiality": (3, "")},
            expected_version=1,
        )  # fmt: skip
    slow.rollback()
    slow.close()
    with db.unit_of_work(write=False) as check:
        final = check.scalars(select(RolePlayRating)).one()
        assert final.version == 2 and final.levels()["open-questions"] == 4
