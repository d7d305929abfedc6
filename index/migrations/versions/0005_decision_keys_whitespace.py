"""Decisions re-keyed: a text's key no longer tells a line break from a space.

The form's fields are joined by newlines and a pasted draft carries the same words on one line; they
were two texts to the decisions, so a correction on one left the other's older decision active too.
Every stored key is recomputed with ``text_key`` (whitespace collapsed); texts that now share a key
share its history, and the newest decision among them is the active one, as for any text.

Revision ID: 0005_decision_keys_whitespace
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from planalign.index.decisions import text_key

revision = "0005_decision_keys_whitespace"
down_revision = "0004_decisions_by_project"
branch_labels = None
depends_on = None

CHUNK = 1000


def upgrade() -> None:
    connection = op.get_bind()
    decisions = sa.table("decisions", sa.column("id", sa.Integer), sa.column("text", sa.Text), sa.column("text_key", sa.String))
    after = 0
    while True:
        rows = connection.execute(sa.select(decisions.c.id, decisions.c.text, decisions.c.text_key)
                                  .where(decisions.c.id > after).order_by(decisions.c.id).limit(CHUNK)).all()
        if not rows:
            return
        changed = [{"row": row.id, "key": key} for row in rows if (key := text_key(row.text)) != row.text_key]
        if changed:
            connection.execute(decisions.update().where(decisions.c.id == sa.bindparam("row")).values(text_key=sa.bindparam("key")), changed)
        after = rows[-1].id


def downgrade() -> None:
    """Nothing to undo: the old keys told texts apart by their line breaks only, which no reader needs."""
