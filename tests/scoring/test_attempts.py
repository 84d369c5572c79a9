"""Attempt limits, an attempt in progress, cool-down and time limits, on the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.scoring import PreviousAttempt, attempt_deadline, can_start_attempt
from app.scoring.definitions import QuestionAssessment
from tests.scoring import factories as f

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def check(**changes: object) -> QuestionAssessment:
    base = f.assessment([f.single("s1")])
    return base.model_copy(update=changes)


def done(minutes_ago: float, took: float = 5) -> PreviousAttempt:
    started = NOW - timedelta(minutes=minutes_ago + took)
    return PreviousAttempt(started, started + timedelta(minutes=took))


@pytest.mark.parametrize(
    ("changes", "previous", "allowed", "reason"),
    [
        ({}, [], True, "You can start attempt 1."),
        ({"max_attempts": 3}, [done(60)], True, "You can start attempt 2 of 3."),
        ({"max_attempts": 2}, [done(60), done(30)], False, "You have used all 2 attempts"),
        ({"cooldown_minutes": 30}, [done(10)], False, "You can try again in 20 minutes"),
        ({"cooldown_minutes": 30}, [done(29.5)], False, "You can try again in 1 minute:"),
        ({"cooldown_minutes": 30}, [done(30)], True, "You can start attempt 2."),
        ({}, [PreviousAttempt(NOW - timedelta(minutes=5))], False, "already in progress"),
        (
            {"time_limit_minutes": 20},
            [PreviousAttempt(NOW - timedelta(minutes=25))],
            True,
            "You can start attempt 2.",
        ),
        (
            {"time_limit_minutes": 20, "cooldown_minutes": 10},
            [PreviousAttempt(NOW - timedelta(minutes=25))],
            False,
            "You can try again in 5 minutes",
        ),
    ],
)
def test_can_start_attempt(
    changes: dict[str, object], previous: list[PreviousAttempt], allowed: bool, reason: str
) -> None:
    gate = can_start_attempt(check(**changes), previous, NOW)
    assert gate.allowed is allowed
    assert reason in gate.reason
    assert (gate.retry_at is not None) is ("try again" in gate.reason)


def test_deadline_follows_the_time_limit() -> None:
    started = NOW - timedelta(minutes=3)
    assert attempt_deadline(check(time_limit_minutes=20), started) == started + timedelta(
        minutes=20
    )
    assert attempt_deadline(check(), started) is None
