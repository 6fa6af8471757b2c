"""user_account: no version counter (simultaneous log-ins of one account answered 500)

The account row is written by the account's own requests (log-in time, language, log-out),
often several at once; optimistic locking turned the second of two simultaneous log-ins into a
StaleDataError. No form edits an account against a version, so the counter goes.

Revision ID: 5e55a1d0c0de
Revises: c0ffee5a7e01
"""
from alembic import op
import sqlalchemy as sa

revision = '5e55a1d0c0de'
down_revision = 'c0ffee5a7e01'
branch_labels = None
depends_on = None


# Not batch mode: SQLite (3.35+) drops the column in place, where a batch copy would have to drop
# a table that other tables' rows (audit events, sessions, decisions) refer to.


def upgrade():
    op.drop_column('user_account', 'version_id')


def downgrade():
    op.add_column('user_account', sa.Column('version_id', sa.Integer(), server_default='1', nullable=False))
