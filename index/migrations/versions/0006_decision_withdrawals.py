"""Withdrawals: a decision taken by mistake is withdrawn, not deleted; and a text's decisions at every level found by index.

A withdrawal is a row of its own (no node) naming the decision it withdraws (``withdraws``); the
withdrawn decision stays in the history and no longer counts: its text's label is the newest decision
still standing (an older one, or none).

Revision ID: 0006_decision_withdrawals
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_decision_withdrawals"
down_revision = "0005_decision_keys_whitespace"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "withdraws" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("decisions")}:
        with op.batch_alter_table("decisions") as batch:  # SQLite adds a nullable column in place
            batch.add_column(sa.Column("withdraws", sa.Integer(), nullable=True))
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("decisions")}
    if "ix_decisions_withdraws" not in indexes:
        op.create_index("ix_decisions_withdraws", "decisions", ["withdraws"])
    if "ix_decisions_text" not in indexes:  # a text's labels at every level (align's `decided`): (catalog, level, text_key) read the whole catalog
        op.create_index("ix_decisions_text", "decisions", ["catalog", "text_key"])


def downgrade() -> None:
    # the withdrawal rows go first: without their column they would read as the newest label of their texts (a node
    # "" hiding the decisions standing under them: a blind review); the decisions they withdrew count again
    op.execute(sa.text("DELETE FROM decisions WHERE withdraws IS NOT NULL"))
    op.drop_index("ix_decisions_text", "decisions")
    op.drop_index("ix_decisions_withdraws", "decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("withdraws")
