"""The command line: batch issuance for a cohort, verification, key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.catalog import current_record
from app.cli import cli
from app.config import Settings
from app.credentials.batch import issue_batch
from app.credentials.issuance import SYSTEM, Actor, certificate_by_id, revoke_certificate
from app.store import Database
from app.store.accounts import User
from app.store.learning import Cohort, Enrolment
from tests.credentials.conftest import make_trainee, progress_for


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PEERPATH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PEERPATH_BASE_URL", settings.base_url)
    return settings


def _cohort(db: Database, size: int) -> tuple[int, list[int]]:
    with db.unit_of_work() as session:
        release = current_record(session, "sample-programme")
        trainer = User(email="t@example.org", display_name="T", role="trainer", password_hash="x")
        session.add(trainer)
        session.flush()
        cohort = Cohort(
            name="Spring",
            programme_id="sample-programme",
            release_id=release.id,
            trainer_id=trainer.id,
            join_code="SPRING-1",
        )
        session.add(cohort)
        session.flush()
        ids = []
        for n in range(size):
            trainee = make_trainee(session, name=f"Trainee {n}", email=f"t{n}@example.org")
            enrolment = session.get(Enrolment, trainee.enrolment_id)
            assert enrolment is not None
            enrolment.cohort_id = cohort.id
            ids.append(trainee.enrolment_id)
        return cohort.id, ids


def test_a_batch_renders_on_every_core_and_is_idempotent(db: Database, settings: Settings) -> None:
    _, ids = _cohort(db, 3)
    steps: list[str] = []

    def eligible(session, enrolment):  # type: ignore[no-untyped-def]
        from app.catalog import load_release

        return progress_for(load_release(session, enrolment.release_id))

    actor = Actor(None, "test")
    report = issue_batch(db, settings, ids, eligible, actor=actor, workers=2, on_step=steps.append)
    assert len(report.issued) == 3 and steps == ["issued"] * 3
    again = issue_batch(db, settings, ids, eligible, actor=actor, workers=2)
    assert again.issued == [] and sorted(again.already) == sorted(report.issued)


def test_issue_batch_refuses_trainees_without_evidence_and_says_why(
    db: Database, env: Settings
) -> None:
    cohort_id, _ = _cohort(db, 2)
    result = CliRunner().invoke(cli, ["certificates", "issue-batch", "--cohort", str(cohort_id)])
    assert result.exit_code == 0, result.output
    assert "0 issued, 0 already issued, 2 not eligible, 0 failed" in result.output
    assert "not eligible" in result.output and "core compet" in result.output


def test_verify_by_id_and_by_pdf_and_rotate_keys(
    db: Database, env: Settings, tmp_path: Path
) -> None:
    from app.credentials.issuance import issue_certificate

    with db.unit_of_work() as session:
        trainee = make_trainee(session)
        enrolment = session.get(Enrolment, trainee.enrolment_id)
        assert enrolment is not None
        certificate = issue_certificate(
            session, enrolment, progress_for(trainee.release), settings=env, actor=SYSTEM
        )
        public_id, pdf = certificate.public_id, certificate.pdf
    runner = CliRunner()
    by_id = runner.invoke(cli, ["certificates", "verify", public_id.lower()])
    assert by_id.exit_code == 0 and f"{public_id}: valid" in by_id.output
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    assert runner.invoke(cli, ["certificates", "verify", str(path)]).exit_code == 0
    path.write_bytes(pdf[:-10] + b"0000000000")
    altered = runner.invoke(cli, ["certificates", "verify", str(path)])
    assert altered.exit_code == 1 and "not a certificate PDF as issued" in altered.output
    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "now signing with key" in rotated.output
    assert runner.invoke(cli, ["certificates", "verify", public_id]).exit_code == 0
    with db.unit_of_work() as session:
        revoke_certificate(session, public_id, reason="holder-request", actor=SYSTEM)
        assert certificate_by_id(session, public_id).status == "revoked"
    revoked = runner.invoke(cli, ["certificates", "verify", public_id])
    assert revoked.exit_code == 1 and "revoked" in revoked.output
    key = runner.invoke(cli, ["certificates", "api-key", "Board"])
    assert key.exit_code == 0 and key.output.startswith("ppv_")
