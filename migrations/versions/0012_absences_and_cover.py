"""a counsellor's absence, the colleagues covering it, and who recorded or submitted what

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'absences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('counsellor_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'],
                                name=op.f('fk_absences_cancelled_by_id_users')),
        sa.ForeignKeyConstraint(['counsellor_id'], ['users.id'],
                                name=op.f('fk_absences_counsellor_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_absences_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_absences')),
    )
    with op.batch_alter_table('absences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absences_counsellor_id'), ['counsellor_id'],
                              unique=False)

    op.create_table(
        'absence_covers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('absence_id', sa.Integer(), nullable=False),
        sa.Column('covering_id', sa.Integer(), nullable=False),
        sa.Column('class_name', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['absence_id'], ['absences.id'],
                                name=op.f('fk_absence_covers_absence_id_absences')),
        sa.ForeignKeyConstraint(['covering_id'], ['users.id'],
                                name=op.f('fk_absence_covers_covering_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_absence_covers')),
        sa.UniqueConstraint('absence_id', 'class_name',
                            name=op.f('uq_absence_covers_absence_id')),
    )
    with op.batch_alter_table('absence_covers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_absence_covers_absence_id'), ['absence_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_absence_covers_covering_id'), ['covering_id'],
                              unique=False)

    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covering_for_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_timeline_entries_covering_for_id'),
                              ['covering_for_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_timeline_entries_covering_for_id_users'),
                                    'users', ['covering_for_id'], ['id'])

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_daily_reports_submitted_by_id_users'),
                                    'users', ['submitted_by_id'], ['id'])
    # Every report so far was submitted by its own counsellor.
    op.execute("UPDATE daily_reports SET submitted_by_id = counsellor_id")


def downgrade():
    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_daily_reports_submitted_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('submitted_by_id')
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_timeline_entries_covering_for_id_users'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_timeline_entries_covering_for_id'))
        batch_op.drop_column('covering_for_id')
    with op.batch_alter_table('absence_covers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_absence_covers_covering_id'))
        batch_op.drop_index(batch_op.f('ix_absence_covers_absence_id'))
    op.drop_table('absence_covers')
    with op.batch_alter_table('absences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_absences_counsellor_id'))
    op.drop_table('absences')
