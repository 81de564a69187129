"""daily report counts: confirmed and unconfirmed students at submission and approval; the
report state a status changed after

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-10

Reports submitted before this revision keep NULL counts ("unknown"): a status recorded after
a submission overwrote its row's time, so the counts at that submission cannot be rebuilt
honestly.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unconfirmed_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_unconfirmed', sa.Integer(), nullable=True))

    with op.batch_alter_table('daily_statuses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_after', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('daily_statuses', schema=None) as batch_op:
        batch_op.drop_column('changed_after')

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.drop_column('approved_unconfirmed')
        batch_op.drop_column('unconfirmed_count')
        batch_op.drop_column('confirmed_count')
