"""Assessment records: attempts at question assessments, free-text feedback and its moderation,
observed role-play sessions, trainers' rubric ratings and follow-ups of harmful ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base, UTCDateTime, utcnow


class Attempt(Base):
    """One attempt at a knowledge check, scenario bank or free-text exercise.

    The plan (drawn items, option order, seed) is stored when the attempt starts, against the
    release the trainee was on then, so the attempt can always be shown and reviewed as it was.
    """

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "assessment_id", "attempt_no"),
        Index("ix_attempts_enrolment_assessment", "enrolment_id", "assessment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    assessment_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    attempt_no: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # "trainee" (pressed Submit), "late" (submitted after the deadline: later answers ignored),
    # "time-up" (never submitted; closed by the server with the answers saved in time).
    submitted_how: Mapped[str | None] = mapped_column(String(16), default=None)
    points: Mapped[float | None] = mapped_column(Float, default=None)
    max_points: Mapped[float | None] = mapped_column(Float, default=None)
    fraction: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # competency → fraction scored on that competency's items (the evidence for levels).
    competency_scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class FreeTextResponse(Base):
    """A free-text answer with the analyser's formative feedback and a trainer's moderation."""

    __tablename__ = "free_text_responses"
    __table_args__ = (UniqueConstraint("attempt_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # The analyser's result: {"message", "skills", "roadblocks", "detections": [...]}.
    feedback: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "automatic" until a trainer looks: then "confirmed" or "overridden".
    review_status: Mapped[str] = mapped_column(String(16), default="automatic")
    trainer_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)


class RolePlaySession(Base):
    """One observed role-play of one trainee, which one or more trainers rate."""

    __tablename__ = "roleplay_sessions"
    __table_args__ = (Index("ix_roleplay_sessions_enrolment", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    assessment_id: Mapped[str] = mapped_column(String(64))
    opened_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class RolePlayRating(Base):
    """One trainer's rubric rating of one session: item id → {"level": 1–4, "comment": str}.

    Edits are optimistic: `version` is checked on every UPDATE (a stale edit raises
    StaleDataError, which the web layer answers with 409).
    """

    __tablename__ = "roleplay_ratings"
    __table_args__ = (UniqueConstraint("session_id", "rater_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    items: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy declares it)

    def levels(self) -> dict[str, int]:
        return {item: int(value["level"]) for item, value in self.items.items()}


class HarmfulFollowUp(Base):
    """A rubric item rated 1 (potentially harmful): open until a trainer resolves it."""

    __tablename__ = "harmful_followups"
    __table_args__ = (
        UniqueConstraint("rating_id", "item_id"),
        Index("ix_harmful_followups_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("roleplay_sessions.id", ondelete="CASCADE"))
    rating_id: Mapped[int] = mapped_column(ForeignKey("roleplay_ratings.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None
