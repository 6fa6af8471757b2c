"""a phone is not a person: the province/phone index is no longer unique (a family shares one phone)

Revision ID: 72e6bda8a33c
Revises: a7c3e5d91f20
Create Date: 2026-11-29 01:01:31.012001

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '72e6bda8a33c'
down_revision = 'a7c3e5d91f20'
branch_labels = None
depends_on = None

_WHERE = sa.text('phone IS NOT NULL')


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('uq_person_province_phone')
        batch_op.create_index('ix_person_province_phone', ['province_id', 'phone'], unique=False,
                              sqlite_where=_WHERE, postgresql_where=_WHERE)


def downgrade():
    # Fails if two people now share a phone in a province: that is the data the upgrade allows.
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_province_phone')
        batch_op.create_index('uq_person_province_phone', ['province_id', 'phone'], unique=True,
                              sqlite_where=_WHERE, postgresql_where=_WHERE)
