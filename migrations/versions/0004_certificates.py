"""certificates: issued versions, verifier API keys, verification rate-limit counters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("lineage_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes", sa.String(40), nullable=True),
        sa.Column("superseded_by", sa.String(40), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.String(64), nullable=False),
        sa.Column("holder_name", sa.String(200), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_list_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(32), nullable=True),
        sa.Column("continuing_education_hours", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "status IN ('issued', 'revoked', 'superseded')", name=op.f("ck_certificates_status")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_certificates_enrolment_id_enrolments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_certificates_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("public_id", name=op.f("uq_certificates_public_id")),
        sa.UniqueConstraint(
            "status_list", "status_list_index", name="uq_certificates_status_entry"
        ),
    )
    op.create_index(
        "uq_certificates_current_per_enrolment",
        "certificates",
        ["enrolment_id"],
        unique=True,
        sqlite_where=sa.text("status = 'issued'"),
        postgresql_where=sa.text("status = 'issued'"),
    )
    op.create_index("ix_certificates_pdf_sha256", "certificates", ["pdf_sha256"])
    op.create_index("ix_certificates_lineage", "certificates", ["lineage_id", "version"])
    op.create_index("ix_certificates_user_id", "certificates", ["user_id"])
    op.create_table(
        "verifier_api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_verifier_api_keys_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifier_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_verifier_api_keys_key_hash")),
    )
    op.create_table(
        "verification_counters",
        sa.Column("bucket", sa.String(128), nullable=False),
        sa.Column("window_started_at", UTCDateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_verification_counters")),
    )


def downgrade() -> None:
    op.drop_table("verification_counters")
    op.drop_table("verifier_api_keys")
    op.drop_index("ix_certificates_user_id", table_name="certificates")
    op.drop_index("ix_certificates_lineage", table_name="certificates")
    op.drop_index("ix_certificates_pdf_sha256", table_name="certificates")
    op.drop_index("uq_certificates_current_per_enrolment", table_name="certificates")
    op.drop_table("certificates")
