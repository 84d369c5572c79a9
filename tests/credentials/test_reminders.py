"""Expiry: holders see a notice on their dashboard from 90 days before, and get one reminder email
per threshold (90 and 30 days) from `peerpath certificates remind`, never the same one twice."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from sqlalchemy import create_engine, func, inspect, select, text
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.credentials.issuance import SYSTEM, revoke_certificate
from app.credentials.reminders import send_reminders
from app.store import Database, connect
from app.store.base import utcnow
from app.store.certificates import CertificateReminder
from app.store.migrate import downgrade, upgrade
from tests.conftest import ON_POSTGRES, _postgres_url
from tests.credentials.issuing import issue_directly
from tests.journeys import enrol
from tests.training.factories import Person, person


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PEERPATH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PEERPATH_BASE_URL", settings.base_url)
    monkeypatch.delenv("PEERPATH_SMTP_HOST", raising=False)
    return settings


def holder(app: FastAPI, db: Database, name: str = "Amara Okafor") -> Person:
    """A signed-in trainee enrolled in the sample programme (24-month certificates)."""
    someone = person(app, db, "trainee", name=name)
    enrol(someone.client)
    return someone


def certify(db: Database, settings: Settings, user_id: int, *, expires_in: int) -> tuple[str, int]:
    """Issue the holder's certificate to expire in about `expires_in` days; returns its ID and
    the exact days left."""
    issued = issue_directly(db, settings, user_id, expires_in=expires_in)
    return issued.public_id, (issued.expires_on - utcnow().date()).days


def reminders_recorded(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count(CertificateReminder.id))) or 0


def emails(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "this email was not sent" in r.getMessage()]


def test_a_certificate_expiring_in_80_days_gets_exactly_one_90_day_reminder_across_two_runs(
    app: FastAPI, db: Database, env: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    amara = holder(app, db)
    certificate_id, days_left = certify(db, env, amara.id, expires_in=80)
    caplog.set_level(logging.WARNING, logger="peerpath.credentials")
    runner = CliRunner()

    first = runner.invoke(cli, ["certificates", "remind"])
    assert first.exit_code == 0, first.output
    assert f"{certificate_id}: reminded {amara.email} (90-day reminder" in first.output
    assert "1 sent, 0 failed" in first.output
    second = runner.invoke(cli, ["certificates", "remind"])
    assert second.exit_code == 0, second.output
    assert "0 sent, 0 failed" in second.output

    [email] = emails(caplog)
    assert f"To: {amara.email}" in email and certificate_id in email
    assert f"{days_left} days from today" in email
    assert "4 hours of continuing education, including 1 hour of ethics" in email
    assert f"http://testserver/verify/{certificate_id}" in email
    assert reminders_recorded(db) == 1


def test_a_dry_run_sends_nothing_and_records_nothing(
    app: FastAPI, db: Database, env: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    amara = holder(app, db)
    certificate_id, _ = certify(db, env, amara.id, expires_in=80)
    caplog.set_level(logging.WARNING, logger="peerpath.credentials")

    dry = CliRunner().invoke(cli, ["certificates", "remind", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"{certificate_id}: would remind {amara.email}" in dry.output
    assert "dry run: 1 reminder(s) due; nothing sent or recorded" in dry.output
    assert emails(caplog) == [] and reminders_recorded(db) == 0

    real = CliRunner().invoke(cli, ["certificates", "remind"])
    assert "1 sent" in real.output and len(emails(caplog)) == 1  # still due after a dry run


def test_the_30_day_reminder_follows_the_90_day_one_and_a_late_find_gets_one_email(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    early = holder(app, db, "Early Bird")
    late = holder(app, db, "Late Find")
    _, early_days = certify(db, settings, early.id, expires_in=80)
    _, late_days = certify(db, settings, late.id, expires_in=20)
    today = utcnow().date()

    now = send_reminders(db, settings, today=today)
    assert sorted((r.email, r.threshold_days) for r in now.sent) == sorted(
        [(early.email, 90), (late.email, 30)]
    )
    assert send_reminders(db, settings, today=today + timedelta(days=10)).sent == []
    nearer = send_reminders(db, settings, today=today + timedelta(days=early_days - 25))
    assert [(r.email, r.threshold_days) for r in nearer.sent] == [(early.email, 30)]
    after = send_reminders(db, settings, today=today + timedelta(days=early_days + 1))
    assert after.due == []  # expired: the dashboard says so; no more email
    assert late_days <= 30


def test_revoked_and_distant_certificates_get_no_reminder(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    revoked = holder(app, db, "Revoked")
    distant = holder(app, db, "Distant")
    revoked_id, _ = certify(db, settings, revoked.id, expires_in=60)
    certify(db, settings, distant.id, expires_in=120)
    with db.unit_of_work() as session:
        revoke_certificate(session, revoked_id, reason="issued-in-error", actor=SYSTEM)
    assert send_reminders(db, settings).due == []
    only_a_week = send_reminders(db, settings, thresholds=(7,), dry_run=True)
    assert only_a_week.due == []


def test_the_dashboard_warns_from_90_days_before_expiry_and_not_before(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    soon, later, lapsed = holder(app, db, "Soon"), holder(app, db, "Later"), holder(app, db, "Old")
    _, soon_days = certify(db, settings, soon.id, expires_in=80)
    certify(db, settings, later.id, expires_in=120)
    certify(db, settings, lapsed.id, expires_in=-10)

    warned = soon.client.get("/dashboard").text
    assert f"in {soon_days} days." in warned and "Your certificate expires on" in warned
    assert "Renewal needs 4 hours of continuing education, including 1 hour of ethics." in warned

    calm = later.client.get("/dashboard").text
    assert "Valid until" in calm and "Your certificate expires on" not in calm
    assert "Renewal needs" not in calm

    expired = lapsed.client.get("/dashboard").text
    assert "Your certificate expired on" in expired and "Renewal needs" in expired


# --- through a real SMTP server ----------------------------------------------------------------


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it accepts, or refuses messages (or its QUIT) when told."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False
    refuse_quit: bool = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "554 5.7.1 Message refused for this test"
        assert isinstance(envelope.content, bytes)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "451 4.3.0 Trouble hanging up" if self.refuse_quit else "221 Bye"


@pytest.fixture
def mailbox(env: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 that `peerpath certificates remind` is configured to use."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Mailbox()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("PEERPATH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PEERPATH_SMTP_PORT", str(port))
    monkeypatch.setenv("PEERPATH_SMTP_STARTTLS", "false")
    monkeypatch.setenv("PEERPATH_SMTP_FROM", "certificates@peerpath.example")
    yield handler
    server.stop()


def test_the_reminder_reaches_a_real_smtp_server_once_with_everything_the_holder_needs(
    app: FastAPI, db: Database, env: Settings, mailbox: Mailbox
) -> None:
    amara = holder(app, db)
    certificate_id, days_left = certify(db, env, amara.id, expires_in=80)
    expires_on = utcnow().date() + timedelta(days=days_left)
    runner = CliRunner()

    first = runner.invoke(cli, ["certificates", "remind"])
    assert first.exit_code == 0, first.output
    assert "1 sent, 0 failed" in first.output
    [(recipients, message)] = mailbox.received
    assert recipients == [amara.email] and message["To"] == amara.email
    assert message["From"] == "certificates@peerpath.example"
    assert message["Subject"] == (
        f"Your Certificate in Sample Peer Support expires on {expires_on:%-d %B %Y}"
    )
    body = message.get_content()
    assert certificate_id in body
    assert f"is valid until {expires_on:%-d %B %Y}, {days_left} days from today" in body
    assert "Renewal needs 4 hours of continuing education, including 1 hour of ethics." in body
    assert f"Its public verification page: http://testserver/verify/{certificate_id}" in body

    second = runner.invoke(cli, ["certificates", "remind"])
    assert second.exit_code == 0 and "0 sent, 0 failed" in second.output
    assert len(mailbox.received) == 1
    assert reminders_recorded(db) == 1


def test_a_refused_reminder_is_not_recorded_as_sent_and_the_next_run_sends_it(
    app: FastAPI, db: Database, env: Settings, mailbox: Mailbox
) -> None:
    amara = holder(app, db)
    certificate_id, _ = certify(db, env, amara.id, expires_in=20)
    mailbox.refuse = True
    runner = CliRunner()

    refused = runner.invoke(cli, ["certificates", "remind"])
    assert refused.exit_code == 1
    assert f"{certificate_id}: not sent:" in refused.output and "554" in refused.output
    assert "0 sent, 1 failed" in refused.output
    assert mailbox.received == [] and reminders_recorded(db) == 0

    mailbox.refuse = False
    retried = runner.invoke(cli, ["certificates", "remind"])
    assert retried.exit_code == 0 and "1 sent, 0 failed" in retried.output
    [(recipients, message)] = mailbox.received
    assert recipients == [amara.email] and certificate_id in message.get_content()
    assert reminders_recorded(db) == 1


def test_a_server_that_accepts_the_reminder_but_fumbles_quit_does_not_get_it_twice(
    app: FastAPI, db: Database, env: Settings, mailbox: Mailbox
) -> None:
    amara = holder(app, db)
    certify(db, env, amara.id, expires_in=20)
    mailbox.refuse_quit = True
    runner = CliRunner()
    first = runner.invoke(cli, ["certificates", "remind"])
    assert first.exit_code == 0 and "1 sent, 0 failed" in first.output, first.output
    again = runner.invoke(cli, ["certificates", "remind"])
    assert again.exit_code == 0 and "0 sent, 0 failed" in again.output
    assert len(mailbox.received) == 1 and reminders_recorded(db) == 1


# --- the migration -----------------------------------------------------------------------------


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (a new SQLite file, or a new PostgreSQL schema)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"pp_migration_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_postgres_url("public"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield _postgres_url(schema)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_the_reminders_migration_upgrades_and_downgrades(empty_database: str) -> None:
    database = connect(Settings(database_url=empty_database))
    try:
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
            columns = {c["name"] for c in inspect(connection).get_columns("certificate_reminders")}
            assert columns == {"id", "certificate_id", "threshold_days", "expires_on", "sent_at"}
            downgrade(connection, "attempts_ratings")
            connection.commit()
            assert "certificate_reminders" not in inspect(connection).get_table_names()
            assert "certificates" in inspect(connection).get_table_names()
            upgrade(connection)
            connection.commit()
            assert "certificate_reminders" in inspect(connection).get_table_names()
    finally:
        database.dispose()
