"""team: index (province_id, established_on, dissolved_on, status) for the outputs report's
expected team-months (cdt/outputs/report.py)

Revision ID: a7c3e5d91f20
Revises: 817b0a5dea46
Create Date: 2026-11-29 00:56:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e5d91f20'
down_revision = '817b0a5dea46'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index('ix_team_province_dates', ['province_id', 'established_on', 'dissolved_on', 'status'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index('ix_team_province_dates')
