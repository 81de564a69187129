"""a counsellor revokes a student's personal check-in link

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-11

"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkin_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'revoked_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('checkin_links', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
