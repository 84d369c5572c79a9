"""The certificate lifecycle as trainers, holders and verifiers live it."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.credentials.issuance import (
    SYSTEM,
    CertificateError,
    NotEligible,
    certificate_by_id,
    issue_certificate,
    key_ring,
    lineage,
    plan_issue,
    record_issue,
    reissue_certificate,
    render_plan,
    renew_certificate,
    revoke_certificate,
    revoked_indexes,
)
from app.credentials.verification import Outcome, verify_certificate, verify_many, verify_pdf
from app.store.accounts import User
from app.store.audit import AuditEntry
from app.store.certificates import Certificate
from app.store.learning import Enrolment
from tests.credentials.conftest import Trainee, make_trainee, progress_for

TODAY = date(2026, 11, 23)


def _issue(session: Session, trainee: Trainee, settings: Settings, **kwargs: object) -> Certificate:
    enrolment = session.get(Enrolment, trainee.enrolment_id)
    assert enrolment is not None
    return issue_certificate(
        session,
        enrolment,
        progress_for(trainee.release),
        settings=settings,
        actor=SYSTEM,
        today=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


def test_an_eligible_trainee_gets_a_signed_certificate_that_verifies(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    verdict = verify_certificate(
        session, certificate.public_id.lower(), key_ring(settings), today=TODAY
    )
    assert verdict.outcome is Outcome.VALID
    assert verdict.record is not None
    assert verdict.record.holder.name == "Amara Okafor"
    assert verdict.record.expires_on == date(2028, 11, 23)
    assert {c.level for c in verdict.record.competencies} == {"competent"}
    assert verdict.record.release.content_hash == trainee.release.content_hash
    text = PdfReader(io.BytesIO(certificate.pdf)).pages[0].extract_text()
    assert "Amara Okafor" in text and certificate.public_id in text
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["certificate.issued"]


def test_issuing_twice_for_one_enrolment_returns_the_same_certificate(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    first = _issue(session, trainee, settings)
    second = _issue(session, trainee, settings)
    assert second.public_id == first.public_id
    assert session.scalar(select(Certificate.id).where(Certificate.id != first.id)) is None


def test_two_racing_issues_store_one_certificate(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    enrolment = session.get(Enrolment, trainee.enrolment_id)
    assert enrolment is not None
    keys = key_ring(settings)
    plans = [
        plan_issue(session, enrolment, progress_for(trainee.release), settings=settings, keys=keys)
        for _ in range(2)
    ]
    stored = [record_issue(session, plan, render_plan(plan), actor=SYSTEM) for plan in plans]  # type: ignore[arg-type]
    assert stored[0].public_id == stored[1].public_id
    assert len(session.scalars(select(Certificate)).all()) == 1


def test_a_trainee_who_is_not_eligible_is_told_every_unmet_condition(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    enrolment = session.get(Enrolment, trainee.enrolment_id)
    assert enrolment is not None
    progress = progress_for(trainee.release, level="developing", hours=0.5)
    with pytest.raises(NotEligible) as raised:
        issue_certificate(session, enrolment, progress, settings=settings, actor=SYSTEM)
    unmet = " ".join(raised.value.unmet)
    assert "more hours" in unmet and "core compet" in unmet
    assert session.scalars(select(Certificate)).all() == []


def test_the_issued_pdf_verifies_and_one_changed_byte_does_not(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    keys = key_ring(settings)
    genuine = verify_pdf(session, certificate.pdf, keys, today=TODAY)
    assert genuine.matches and genuine.verdict is not None
    assert genuine.verdict.outcome is Outcome.VALID
    tampered = bytearray(certificate.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    altered = verify_pdf(session, bytes(tampered), keys, today=TODAY)
    assert not altered.matches and altered.verdict is None
    assert "not a certificate PDF as issued" in altered.explanation


def test_a_record_signed_by_an_unknown_key_fails(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    certificate.kid = "A" * 43
    session.flush()
    verdict = verify_certificate(session, certificate.public_id, key_ring(settings), today=TODAY)
    assert verdict.outcome is Outcome.INVALID_SIGNATURE
    assert "never published" in verdict.explanation


def test_a_record_changed_in_the_database_fails(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    certificate.record_json = certificate.record_json.replace("competent", "proficient")
    session.flush()
    verdict = verify_certificate(session, certificate.public_id, key_ring(settings), today=TODAY)
    assert verdict.outcome is Outcome.INVALID_SIGNATURE
    assert verdict.record is None


def test_a_revoked_certificate_says_so_with_date_and_reason_and_is_in_the_status_list(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    revoke_certificate(session, certificate.public_id, reason="misconduct", actor=SYSTEM, note="x")
    verdict = verify_certificate(session, certificate.public_id, key_ring(settings), today=TODAY)
    assert verdict.outcome is Outcome.REVOKED
    assert verdict.revocation_reason == "misconduct"
    assert verdict.revoked_at is not None
    assert revoked_indexes(session, certificate.status_list) == [certificate.status_list_index]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.revoked")
    ).one()
    assert entry.subject_id == certificate.public_id and entry.details["reason"] == "misconduct"
    with pytest.raises(CertificateError, match="revocation reason"):
        revoke_certificate(session, certificate.public_id, reason="because", actor=SYSTEM)


def test_an_expired_certificate_says_so(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    keys = key_ring(settings)
    assert (
        verify_certificate(session, certificate.public_id, keys, today=date(2028, 11, 23)).outcome
        is Outcome.VALID
    )
    later = verify_certificate(session, certificate.public_id, keys, today=date(2028, 11, 24))
    assert later.outcome is Outcome.EXPIRED


def test_a_name_change_reissues_with_history_and_the_old_version_points_to_the_new(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    old = _issue(session, trainee, settings)
    new = reissue_certificate(
        session, old.public_id, settings=settings, actor=SYSTEM, holder_name="Amara Okafor-Reyes"
    )
    keys = key_ring(settings)
    old_verdict = verify_certificate(session, old.public_id, keys, today=TODAY)
    assert old_verdict.outcome is Outcome.SUPERSEDED
    assert old_verdict.superseded_by == new.public_id
    new_verdict = verify_certificate(session, new.public_id, keys, today=TODAY)
    assert new_verdict.outcome is Outcome.VALID
    assert new_verdict.record is not None
    assert new_verdict.record.holder.name == "Amara Okafor-Reyes"
    assert new_verdict.record.version == 2 and new_verdict.record.supersedes == old.public_id
    assert [c.public_id for c in lineage(session, old.lineage_id)] == [old.public_id, new.public_id]
    assert _issue(session, trainee, settings).public_id == new.public_id


def test_renewal_needs_the_manifests_hours_and_extends_validity(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    old = _issue(session, trainee, settings)
    with pytest.raises(NotEligible, match="continuing education"):
        renew_certificate(
            session,
            old.public_id,
            continuing_education_hours=2,
            ethics_hours=1,
            settings=settings,
            actor=SYSTEM,
            today=date(2028, 10, 1),
        )
    renewed = renew_certificate(
        session,
        old.public_id,
        continuing_education_hours=4.5,
        ethics_hours=1,
        settings=settings,
        actor=SYSTEM,
        today=date(2028, 10, 1),
    )
    verdict = verify_certificate(
        session, renewed.public_id, key_ring(settings), today=date(2029, 1, 1)
    )
    assert verdict.outcome is Outcome.VALID
    assert verdict.record is not None and verdict.record.renewal is not None
    assert verdict.record.expires_on == date(2030, 11, 23)
    assert verdict.record.renewal.continuing_education_hours == 4.5
    assert renewed.continuing_education_hours == 4.5


def test_bulk_verification_returns_each_ids_status_in_order(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    valid = _issue(session, trainee, settings)
    other = make_trainee(session, name="Bo Lin", email="bo@example.org")
    revoked = _issue(session, other, settings)
    revoke_certificate(session, revoked.public_id, reason="issued-in-error", actor=SYSTEM)
    unknown = "PP-0000-0000-0000-0000-0000-0000-000"
    typo = valid.public_id[:-1] + ("0" if valid.public_id[-1] != "0" else "1")
    verdicts = verify_many(
        session,
        [valid.public_id, revoked.public_id, unknown, typo],
        key_ring(settings),
        today=TODAY,
    )
    assert [v.outcome for v in verdicts] == [
        Outcome.VALID,
        Outcome.REVOKED,
        Outcome.UNKNOWN,
        Outcome.UNKNOWN,
    ]
    assert "typing mistake" in verdicts[3].explanation
    with pytest.raises(ValueError, match="at most 1000"):
        verify_many(session, [unknown] * 1001, key_ring(settings))


def test_a_deleted_account_keeps_a_verifiable_certificate(
    session: Session, trainee: Trainee, settings: Settings
) -> None:
    certificate = _issue(session, trainee, settings)
    user = session.get(User, trainee.user_id)
    session.delete(user)
    session.flush()
    session.expire_all()
    kept = certificate_by_id(session, certificate.public_id)
    assert kept.user_id is None and kept.enrolment_id is None
    verdict = verify_certificate(session, kept.public_id, key_ring(settings), today=TODAY)
    assert verdict.outcome is Outcome.VALID
