"""certificate reminders: which expiry reminders were sent, one per certificate and threshold

Revision ID: 0006
Revises: attempts_ratings
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "attempts_ratings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("threshold_days", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_reminders_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_reminders")),
        sa.UniqueConstraint(
            "certificate_id", "threshold_days", name=op.f("uq_certificate_reminders_certificate_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("certificate_reminders")
