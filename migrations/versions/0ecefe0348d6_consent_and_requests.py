"""personal data (issue 13): consent records, the requests register, configured public holidays

- consent_record: consents given and withdrawn (history kept; one open record per person);
- privacy_request: requests about a person's data with their working-day deadlines;
- public_holiday: days added with `flask cdt holidays add` (the shipped CSV is read from files).
No existing row changes: every person starts with consent pending.

Revision ID: 0ecefe0348d6
Revises: 4d130b1aca4f
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0ecefe0348d6'
down_revision = '4d130b1aca4f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_holiday',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=4), server_default='off', nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.CheckConstraint("kind IN ('off', 'work')", name=op.f('ck_public_holiday_kind')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_public_holiday'))
    )
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('notice_version', sa.String(length=40), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawal_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawal_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("method IN ('paper', 'in_person', 'digital')", name=op.f('ck_consent_record_method')),
    sa.CheckConstraint('withdrawn_on IS NULL OR withdrawn_on >= given_on', name=op.f('ck_consent_record_dates')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_consent_record_person_id_person')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_record_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['withdrawal_recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_record_withdrawal_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_person_id'), ['person_id'], unique=False)
        batch_op.create_index('uq_consent_record_open', ['person_id'], unique=True, sqlite_where=sa.text('withdrawn_on IS NULL'), postgresql_where=sa.text('withdrawn_on IS NULL'))

    op.create_table('privacy_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('requester', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('acknowledge_by', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('extended_on', sa.Date(), nullable=True),
    sa.Column('extension_reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='received', nullable=False),
    sa.Column('acknowledged_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('in_person', 'paper', 'phone', 'digital')", name=op.f('ck_privacy_request_channel')),
    sa.CheckConstraint("kind IN ('access', 'correction', 'erasure', 'restriction', 'objection', 'withdrawal')", name=op.f('ck_privacy_request_kind')),
    sa.CheckConstraint("requester IN ('self', 'representative', 'guardian')", name=op.f('ck_privacy_request_requester')),
    sa.CheckConstraint("status IN ('received', 'acknowledged', 'completed', 'refused')", name=op.f('ck_privacy_request_status')),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_privacy_request_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_privacy_request_person_id_person')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_privacy_request_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_request'))
    )
    with op.batch_alter_table('privacy_request', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_request_open_due', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_privacy_request_person_id'), ['person_id'], unique=False)



def downgrade():
    with op.batch_alter_table('privacy_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_request_person_id'))
        batch_op.drop_index('ix_privacy_request_open_due')

    op.drop_table('privacy_request')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index('uq_consent_record_open', sqlite_where=sa.text('withdrawn_on IS NULL'), postgresql_where=sa.text('withdrawn_on IS NULL'))
        batch_op.drop_index(batch_op.f('ix_consent_record_person_id'))

    op.drop_table('consent_record')
    op.drop_table('public_holiday')
