"""the schedule's last runs, and the reminders each user turned off

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'schedule_runs',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('last_slot', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_job_id', sa.Integer(), nullable=True),
        sa.Column('ran_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['last_job_id'], ['jobs.id'],
                                name=op.f('fk_schedule_runs_last_job_id_jobs'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_schedule_runs')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_off', sa.JSON(), server_default='[]',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminders_off')
    op.drop_table('schedule_runs')
