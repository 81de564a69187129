"""the schedule's last runs, the reminders each user turned off, class group robots and the
message log

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

    op.create_table(
        'class_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('class_name', sa.String(length=100), nullable=False),
        sa.Column('service', sa.String(length=10), nullable=False),
        sa.Column('webhook_encrypted', sa.Text(), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=True),
        sa.Column('hint', sa.String(length=12), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=False),
        sa.Column('set_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['set_by_id'], ['users.id'],
                                name=op.f('fk_class_groups_set_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_class_groups')),
        sa.UniqueConstraint('class_name', name=op.f('uq_class_groups_class_name')),
    )
    op.create_table(
        'message_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sent_by_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('counsellor_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('student_ids', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=40), nullable=True),
        sa.Column('answer', sa.String(length=200), nullable=True),
        sa.Column('next_attempt_at', caretrack.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('created_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['counsellor_id'], ['users.id'],
                                name=op.f('fk_message_log_counsellor_id_users')),
        sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'],
                                name=op.f('fk_message_log_sent_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_log')),
    )
    with op.batch_alter_table('message_log', schema=None) as batch_op:
        for column in ('counsellor_id', 'next_attempt_at', 'recipient', 'sent_by_id', 'state'):
            batch_op.create_index(batch_op.f(f'ix_message_log_{column}'), [column], unique=False)


def downgrade():
    with op.batch_alter_table('message_log', schema=None) as batch_op:
        for column in ('state', 'sent_by_id', 'recipient', 'next_attempt_at', 'counsellor_id'):
            batch_op.drop_index(batch_op.f(f'ix_message_log_{column}'))
    op.drop_table('message_log')
    op.drop_table('class_groups')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminders_off')
    op.drop_table('schedule_runs')
