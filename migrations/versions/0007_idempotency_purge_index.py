"""idempotency purge index: a user's expired keys found by one range scan on
(user_id, created_at), in place of the index on created_at alone that no query used

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_idempotency_keys_user_id_created_at", "idempotency_keys", ["user_id", "created_at"]
    )
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")


def downgrade() -> None:
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.drop_index("ix_idempotency_keys_user_id_created_at", table_name="idempotency_keys")
