"""the day's numbers per counsellor kept as statuses are written, the past days' activity,
and the indexes the college-wide pages need at 50,000 students

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

COUNTS = ('students', 'confirmed', 'changes', 'hubei', 'beijing', 'on_campus',
          'after_submission', 'after_approval', 'health_normal', 'health_fever',
          'health_symptoms', 'health_suspected', 'health_confirmed', 'health_isolated_home',
          'health_isolated_centre', 'source_counsellor', 'source_upload', 'source_self')


def upgrade():
    op.create_table(
        'daily_tallies',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('counsellor_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.ForeignKeyConstraint(['counsellor_id'], ['users.id'],
                                name=op.f('fk_daily_tallies_counsellor_id_users')),
        sa.PrimaryKeyConstraint('day', 'counsellor_id', name=op.f('pk_daily_tallies')),
    )
    op.create_table(
        'activity_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('follow_ups', sa.Integer(), nullable=False),
        sa.Column('deliveries', sa.Integer(), nullable=False),
        sa.Column('new_categories', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_activity_days')),
    )


def downgrade():
    op.drop_table('activity_days')
    op.drop_table('daily_tallies')
