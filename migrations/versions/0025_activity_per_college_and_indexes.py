"""each college's past days' activity kept apart, and the indexes the pages need at 50,000
students

Revision ID: 0025
Revises: 0020
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0020'
branch_labels = None
depends_on = None

COUNTS = ('follow_ups', 'deliveries', 'new_categories')
#: (name, table, columns) of the indexes the 50,000-student plans need.
INDEXES = [
    # The review queue (high concern or flagged): a bitmap of two index scans instead of a
    # sequential scan of the college's students.
    ('ix_students_college_concern', 'students', ['college_id', 'concern_level']),
    ('ix_students_college_flagged', 'students', ['college_id', 'flagged_for_review']),
]


def _activity_table(name, with_college):
    return op.create_table(
        name,
        sa.Column('day', sa.Date(), nullable=False),
        *([sa.Column('college_id', sa.Integer(), nullable=False)] if with_college else []),
        *[sa.Column(count, sa.Integer(), nullable=False) for count in COUNTS],
        *([sa.ForeignKeyConstraint(['college_id'], ['colleges.id'],
                                   name=op.f('fk_activity_days_college_id_colleges'))]
          if with_college else []),
        sa.PrimaryKeyConstraint('day', *(['college_id'] if with_college else []),
                                name=op.f('pk_activity_days')),
    )


def upgrade():
    # The kept activity was the installation's: it is the college's when there is one
    # college; else the days are counted again, per college, at the next status write.
    connection = op.get_bind()
    kept = connection.execute(sa.text(
        'SELECT day, follow_ups, deliveries, new_categories FROM activity_days')).all()
    colleges = connection.execute(sa.text('SELECT id FROM colleges')).scalars().all()
    op.drop_table('activity_days')
    table = _activity_table('activity_days', with_college=True)
    if len(colleges) == 1 and kept:
        op.bulk_insert(table, [{'day': day, 'college_id': colleges[0], 'follow_ups': f,
                                'deliveries': d, 'new_categories': c}
                               for day, f, d, c in kept])
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table('activity_days')
    _activity_table('activity_days', with_college=False)
