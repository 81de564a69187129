"""the indexes the review queue needs at 50,000 students

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-03

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0023'
branch_labels = None
depends_on = None

#: (name, table, columns) of the indexes the 50,000-student plans need.
INDEXES = [
    # The review queue (high concern or flagged): a bitmap of two index scans instead of a
    # sequential scan of the college's students.
    ('ix_students_college_concern', 'students', ['college_id', 'concern_level']),
    ('ix_students_college_flagged', 'students', ['college_id', 'flagged_for_review']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
