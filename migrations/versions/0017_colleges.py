"""colleges: every student and every college account belongs to one; an install that
predates colleges keeps its data in one college (code "default", or CARETRACK_COLLEGE_CODE)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-02

"""
import os
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None

colleges = sa.table(
    'colleges',
    sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('name_zh', sa.String),
    sa.column('name_en', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
)
students = sa.table('students', sa.column('college_id', sa.Integer))
users = sa.table('users', sa.column('college_id', sa.Integer), sa.column('role', sa.String))


def upgrade():
    op.create_table('colleges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('created_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colleges')),
    sa.UniqueConstraint('code', name=op.f('uq_colleges_code'))
    )
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))

    bind = op.get_bind()
    has_rows = bind.scalar(sa.text('SELECT COUNT(*) FROM users')) or bind.scalar(
        sa.text('SELECT COUNT(*) FROM students'))
    if has_rows:
        # An install that predates colleges: all of it is one college.
        op.bulk_insert(colleges, [{
            'id': 1,
            'code': os.environ.get('CARETRACK_COLLEGE_CODE', 'default'),
            'name_zh': os.environ.get('CARETRACK_COLLEGE_NAME', '本学院'),
            'name_en': os.environ.get('CARETRACK_COLLEGE_NAME_EN', 'The college'),
            'created_at': datetime.now(UTC),
        }])
        op.execute(students.update().values(college_id=1))
        op.execute(users.update().values(college_id=1))
        if bind.dialect.name == 'postgresql':
            op.execute("SELECT setval('colleges_id_seq', 1)")

    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.alter_column('college_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_students_college_id'), ['college_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_students_college_id_colleges'), 'colleges', ['college_id'], ['id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_college_id'), ['college_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_college_id_colleges'), 'colleges', ['college_id'], ['id'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_college_id_colleges'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_college_id'))
        batch_op.drop_column('college_id')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_students_college_id_colleges'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_students_college_id'))
        batch_op.drop_column('college_id')
    op.drop_table('colleges')
