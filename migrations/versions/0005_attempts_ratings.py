"""attempts and ratings: question-assessment attempts, free-text feedback, role-play sessions,
rubric ratings and follow-ups of harmful ratings

Revision ID: attempts_ratings
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision: str = "attempts_ratings"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answers_saved_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("submitted_how", sa.String(length=16), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("max_points", sa.Float(), nullable=True),
        sa.Column("fraction", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("competency_scores", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_attempts_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_attempts_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint(
            "enrolment_id", "assessment_id", "attempt_no", name=op.f("uq_attempts_enrolment_id")
        ),
    )
    op.create_index(
        "ix_attempts_enrolment_assessment", "attempts", ["enrolment_id", "assessment_id"]
    )

    op.create_table(
        "roleplay_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_roleplay_sessions_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["users.id"],
            name=op.f("fk_roleplay_sessions_opened_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_roleplay_sessions_release_id_releases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_sessions")),
    )
    op.create_index("ix_roleplay_sessions_enrolment", "roleplay_sessions", ["enrolment_id"])

    op.create_table(
        "free_text_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("feedback", sa.JSON(), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("trainer_note", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_free_text_responses_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_free_text_responses_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_free_text_responses")),
        sa.UniqueConstraint(
            "attempt_id", "item_id", name=op.f("uq_free_text_responses_attempt_id")
        ),
    )
    op.create_table(
        "roleplay_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["users.id"], name=op.f("fk_roleplay_ratings_rater_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name=op.f("fk_roleplay_ratings_session_id_roleplay_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roleplay_ratings")),
        sa.UniqueConstraint("session_id", "rater_id", name=op.f("uq_roleplay_ratings_session_id")),
    )
    op.create_table(
        "harmful_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["roleplay_ratings.id"],
            name=op.f("fk_harmful_followups_rating_id_roleplay_ratings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_harmful_followups_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name=op.f("fk_harmful_followups_session_id_roleplay_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harmful_followups")),
        sa.UniqueConstraint("rating_id", "item_id", name=op.f("uq_harmful_followups_rating_id")),
    )
    op.create_index("ix_harmful_followups_session", "harmful_followups", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_harmful_followups_session", table_name="harmful_followups")

    op.drop_table("harmful_followups")
    op.drop_table("roleplay_ratings")
    op.drop_table("free_text_responses")
    op.drop_index("ix_roleplay_sessions_enrolment", table_name="roleplay_sessions")

    op.drop_table("roleplay_sessions")
    op.drop_index("ix_attempts_enrolment_assessment", table_name="attempts")

    op.drop_table("attempts")
