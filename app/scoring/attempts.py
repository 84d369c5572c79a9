"""When a trainee may start an attempt, and when it must end: limits from the definition.

The server passes its own clock (`now`) and stored start and submit times; nothing here reads
a clock, so the rules are the same in tests and on every server process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.scoring.definitions import QuestionAssessment


@dataclass(frozen=True)
class PreviousAttempt:
    started_at: datetime
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class AttemptGate:
    """Whether a new attempt may start now, why, and if not, when it may."""

    allowed: bool
    reason: str
    retry_at: datetime | None = None


def attempt_deadline(assessment: QuestionAssessment, started_at: datetime) -> datetime | None:
    """When an attempt started at `started_at` must be submitted; None without a time limit."""
    if assessment.time_limit_minutes is None:
        return None
    return started_at + timedelta(minutes=assessment.time_limit_minutes)


def can_start_attempt(
    assessment: QuestionAssessment, previous: Sequence[PreviousAttempt], now: datetime
) -> AttemptGate:
    """Apply `max_attempts`, an attempt still in progress, and `cooldown_minutes`."""
    used = len(previous)
    limit = assessment.max_attempts
    if limit is not None and used >= limit:
        return AttemptGate(False, f"You have used all {limit} attempts at this assessment.")
    for attempt in previous:
        deadline = attempt_deadline(assessment, attempt.started_at)
        if attempt.submitted_at is None and (deadline is None or now < deadline):
            return AttemptGate(False, "An attempt is already in progress: continue that one.")
    if previous and assessment.cooldown_minutes:
        ends = [
            a.submitted_at or attempt_deadline(assessment, a.started_at) or a.started_at
            for a in previous
        ]
        retry_at = max(ends) + timedelta(minutes=assessment.cooldown_minutes)
        if now < retry_at:
            minutes = max(1, round((retry_at - now).total_seconds() / 60))
            return AttemptGate(
                False,
                f"You can try again in {minutes} minute{'' if minutes == 1 else 's'}: "
                f"a short break between attempts helps.",
                retry_at,
            )
    of = f" of {limit}" if limit is not None else ""
    return AttemptGate(True, f"You can start attempt {used + 1}{of}.")
