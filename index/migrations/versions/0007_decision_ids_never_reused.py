"""Decision ids are never given again: SQLite's AUTOINCREMENT on ``decisions.id``.

Without it SQLite hands the id of a deleted newest row to the next row (a deleted project's declared
alignment: :meth:`planalign.index.decisions.DecisionStore.forget_declared`). Two things went wrong with
a reused id (a blind review): a catalog's decisions fingerprint (count, newest id) came back unchanged
after a file's declarations were deleted and its corrected version ingested, so the model learned
from the wrong file went on being served, after a restart too; and a page still showing the deleted
decision's id withdrew the new, unrelated decision that took it. PostgreSQL's sequences never reuse
an id: nothing to do there.

Revision ID: 0007_decision_ids_never_reused
"""
from __future__ import annotations

from alembic import op

revision = "0007_decision_ids_never_reused"
down_revision = "0006_decision_withdrawals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # the table is copied into one declared AUTOINCREMENT; the copy's ids set sqlite_sequence to the newest
        with op.batch_alter_table("decisions", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("decisions", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
