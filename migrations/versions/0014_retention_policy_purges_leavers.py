"""the retention policy, the purges it ran and the daily numbers they kept; students who
left (graduated or withdrawn, and when); what a purge emptied, on the rows it kept

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retention_purges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ran_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purged_on', sa.Date(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_purges'))
    )
    with op.batch_alter_table('retention_purges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retention_purges_ran_at'), ['ran_at'], unique=False)

    op.create_table('retained_day_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counsellor_id', sa.Integer(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['counsellor_id'], ['users.id'], name=op.f('fk_retained_day_totals_counsellor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retained_day_totals')),
    sa.UniqueConstraint('day', 'counsellor_id', name=op.f('uq_retained_day_totals_day'))
    )
    with op.batch_alter_table('retained_day_totals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retained_day_totals_day'), ['day'], unique=False)

    op.create_table('retention_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('emergency_ended_on', sa.Date(), nullable=True),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('class_days', sa.JSON(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_retention_policies_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policies'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipients_purged_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('purged_recipients', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('purged_acknowledged', sa.Integer(), nullable=True))

    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_on', sa.Date(), nullable=True))

    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leaving', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('left_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_students_left_on'), ['left_on'], unique=False)

    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('health_purged_on', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('timeline_entries', schema=None) as batch_op:
        batch_op.drop_column('health_purged_on')
        batch_op.drop_column('purged_on')

    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_students_left_on'))
        batch_op.drop_column('left_on')
        batch_op.drop_column('leaving')

    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_column('purged_on')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('purged_acknowledged')
        batch_op.drop_column('purged_recipients')
        batch_op.drop_column('recipients_purged_on')

    op.drop_table('retention_policies')
    with op.batch_alter_table('retained_day_totals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retained_day_totals_day'))

    op.drop_table('retained_day_totals')
    with op.batch_alter_table('retention_purges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retention_purges_ran_at'))

    op.drop_table('retention_purges')
