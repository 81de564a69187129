"""notices students acknowledge, and early-return requests

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('audience_values', sa.JSON(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('must_acknowledge', sa.Boolean(), nullable=False),
        sa.Column('pledge', sa.Text(), nullable=False),
        sa.Column('deadline', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('published_at', caretrack.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('submission_key', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_notices_author_id_users')),
        sa.ForeignKeyConstraint(['corrects_id'], ['notices.id'],
                                name=op.f('fk_notices_corrects_id_notices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
        sa.UniqueConstraint('submission_key', name=op.f('uq_notices_submission_key')),
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_corrects_id'), ['corrects_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_published_at'), ['published_at'],
                              unique=False)

    op.create_table(
        'notice_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('acknowledged_at', caretrack.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('pledged', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'],
                                name=op.f('fk_notice_recipients_notice_id_notices')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_notice_recipients_student_id_students')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_recipients')),
    )
    with op.batch_alter_table('notice_recipients', schema=None) as batch_op:
        batch_op.create_index('ix_notice_recipients_notice_student', ['notice_id', 'student_id'],
                              unique=True)
        batch_op.create_index('ix_notice_recipients_student', ['student_id'], unique=False)

    op.create_table(
        'return_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('wanted_on', sa.Date(), nullable=False),
        sa.Column('travel_from', sa.String(length=100), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('created_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('assignment_id', sa.Integer(), nullable=True),
        sa.Column('recommendation', sa.String(length=10), nullable=True),
        sa.Column('recommendation_note', sa.Text(), nullable=False),
        sa.Column('recommended_by_id', sa.Integer(), nullable=True),
        sa.Column('recommended_at', caretrack.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('arrival_on', sa.Date(), nullable=True),
        sa.Column('arrival_plan', sa.Text(), nullable=False),
        sa.Column('isolation_days', sa.Integer(), nullable=True),
        sa.Column('decline_reason', sa.Text(), nullable=False),
        sa.Column('withdrawn_at', caretrack.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('arrived_on', sa.Date(), nullable=True),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['assignment_id'], ['category_assignments.id'],
                                name=op.f('fk_return_requests_assignment_id_category_assignments')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_return_requests_decided_by_id_users')),
        sa.ForeignKeyConstraint(['recommended_by_id'], ['users.id'],
                                name=op.f('fk_return_requests_recommended_by_id_users')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_return_requests_student_id_students')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_return_requests')),
    )
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_requests_state'), ['state'], unique=False)
        batch_op.create_index('ix_return_requests_student_state', ['student_id', 'state'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_return_requests_student_state')
        batch_op.drop_index(batch_op.f('ix_return_requests_state'))
    op.drop_table('return_requests')
    with op.batch_alter_table('notice_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_recipients_student')
        batch_op.drop_index('ix_notice_recipients_notice_student')
    op.drop_table('notice_recipients')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_published_at'))
        batch_op.drop_index(batch_op.f('ix_notices_corrects_id'))
        batch_op.drop_index(batch_op.f('ix_notices_author_id'))
    op.drop_table('notices')
