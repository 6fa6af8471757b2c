"""data_version: one row whose token changes with every change to the registry's figures

The coverage report and the unit pages keep their figures per token (cdt/core/data_version.py).

Revision ID: d4a7e2c19b30
Revises: c1d2e3f4a5b6
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = 'd4a7e2c19b30'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version')),
    )
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16)}])


def downgrade():
    op.drop_table('data_version')
