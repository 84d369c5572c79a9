"""Learning: cohorts, enrolments pinned to a release, lesson progress, private reflections,
and the idempotency records that make retried progress writes count once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base, UTCDateTime, utcnow


class Cohort(Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    programme_id: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Enrolment(Base):
    """A trainee on a programme, pinned to one release; `position_*` is where they left off."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("user_id", "programme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    programme_id: Mapped[str] = mapped_column(String(64))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="SET NULL"), default=None
    )
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    position_module_id: Mapped[str | None] = mapped_column(String(64), default=None)
    position_lesson_id: Mapped[str | None] = mapped_column(String(64), default=None)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class LessonProgress(Base):
    """One lesson of one enrolment, by the lesson's stable ids (so it survives new releases)."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "module_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Reflection(Base):
    """A trainee's private answer to a reflection prompt. Highest sensitivity: never logged."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("enrolment_id", "module_id", "lesson_id", "prompt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(String(64))
    lesson_id: Mapped[str] = mapped_column(String(64))
    prompt_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    shared_with_trainer: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyRecord(Base):
    """The stored answer to a write sent with an Idempotency-Key, written with its effect."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        # A user's expired keys are purged by (user_id, created_at < cutoff): one range scan.
        Index("ix_idempotency_keys_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    response_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
