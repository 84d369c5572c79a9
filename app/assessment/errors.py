"""What can go wrong with an attempt or a rating, as messages a trainee or trainer can act on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class AssessmentError(Exception):
    """The base of every assessment error; `str(error)` is the message to show."""

    status = 409


class UnknownAssessment(AssessmentError):
    status = 404


class NotAllowed(AssessmentError):
    """The user may not do this to this trainee's work (wrong role, or not their cohort)."""

    status = 403


class AttemptLimitReached(AssessmentError):
    pass


class CoolingDown(AssessmentError):
    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class AlreadySubmitted(AssessmentError):
    pass


class TimeUp(AssessmentError):
    """The attempt's time ran out; it has been closed with the answers saved in time."""


class InvalidAnswers(AssessmentError):
    """Some answers cannot be accepted; `errors` maps each item id to what to fix."""

    status = 422

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(
            "Some answers could not be saved: "
            + "; ".join(f"{item}: {message}" for item, message in errors.items())
        )
        self.errors = dict(errors)


class InvalidRating(AssessmentError):
    """A rubric rating that cannot be recorded; `errors` maps each rubric item id to a message."""

    status = 422

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(
            "The rating could not be recorded: "
            + "; ".join(f"{item}: {message}" for item, message in errors.items())
        )
        self.errors = dict(errors)


class StaleEdit(AssessmentError):
    """Someone changed this record since it was opened; reload and edit again."""
