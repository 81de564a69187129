"""colleges: every student and every college account belongs to one; an install that
predates colleges keeps its data in one college (code "default", or CARETRACK_COLLEGE_CODE)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

"""
import os
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

colleges = sa.table(
    'colleges',
    sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('name_zh', sa.String),
    sa.column('name_en', sa.String), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('stages', sa.JSON),
)
#: An install from before colleges has no league secretary: the deputy approves the
#: counsellors' reports directly, as before; then the secretary approves.
WITHOUT_MERGE = [
    {'stage': 'reports', 'deadline': '11:00'},
    {'stage': 'check', 'deadline': '12:00'},
    {'stage': 'approve', 'deadline': '13:00'},
]
students = sa.table('students', sa.column('college_id', sa.Integer))
users = sa.table('users', sa.column('college_id', sa.Integer), sa.column('role', sa.String))


def upgrade():
    op.create_table('colleges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('created_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stages', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colleges')),
    sa.UniqueConstraint('code', name=op.f('uq_colleges_code'))
    )
    op.create_table('college_sign_offs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('college_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_college_sign_offs_college_id_colleges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_college_sign_offs')),
    sa.UniqueConstraint('college_id', 'day', name=op.f('uq_college_sign_offs_college_id'))
    )
    with op.batch_alter_table('college_sign_offs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_college_sign_offs_college_id'), ['college_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_college_sign_offs_day'), ['day'], unique=False)

    op.create_table('sign_off_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sign_off_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_sign_off_steps_by_id_users')),
    sa.ForeignKeyConstraint(['sign_off_id'], ['college_sign_offs.id'], name=op.f('fk_sign_off_steps_sign_off_id_college_sign_offs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_off_steps'))
    )
    with op.batch_alter_table('sign_off_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_off_steps_sign_off_id'), ['sign_off_id'], unique=False)

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
            'stages': WITHOUT_MERGE,
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
    op.drop_table('sign_off_steps')
    op.drop_table('college_sign_offs')
    op.drop_table('colleges')
