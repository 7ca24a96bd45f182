"""Users, limit decisions, the append-only audit log and review requests (LGPD art. 20).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_REFUSE = "audit_log is append-only"


def upgrade() -> None:
    """Create the four tables and the triggers that keep the audit log append-only."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.CheckConstraint("role IN ('analyst', 'supervisor')", name="ck_users_role"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("old_limit", sa.Float),
        sa.Column("new_limit", sa.Float, nullable=False),
        sa.Column("model_limit", sa.Float),
        sa.Column("model_version", sa.String(64)),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("review_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("approved_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("approved_at", sa.DateTime),
        sa.CheckConstraint(
            "action IN ('accept', 'reject', 'override')", name="ck_decisions_action"
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="ck_decisions_status"
        ),
        sa.CheckConstraint("new_limit >= 0", name="ck_decisions_new_limit"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("decision_id", sa.Integer),
        sa.Column("review_id", sa.Integer),
        sa.Column("old_value", sa.String(64)),
        sa.Column("new_value", sa.String(64)),
        sa.Column("reason_code", sa.String(64)),
        sa.Column("comment", sa.Text),
        sa.Column("model_limit", sa.Float),
        sa.Column("model_version", sa.String(64)),
    )
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("as_of", sa.Date),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("answered_by", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("answered_at", sa.DateTime),
        sa.CheckConstraint("status IN ('open', 'answered')", name="ck_review_requests_status"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_refuse() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{_REFUSE}'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()"
        )


def downgrade() -> None:
    """Drop everything (the audit log with it: only for a database being discarded)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse()")
    for table in ("review_requests", "audit_log", "decisions", "users"):
        op.drop_table(table)
