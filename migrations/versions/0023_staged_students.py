"""the students a roster import job stages before it writes the roster

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staged_students',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('version_id', sa.Integer(), nullable=True),
        sa.Column('before', sa.Boolean(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('moves_to_id', sa.Integer(), nullable=True),
        sa.Column('student_number', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('gender', sa.String(length=1), nullable=False),
        sa.Column('programme', sa.String(length=20), nullable=False),
        sa.Column('cohort', sa.Integer(), nullable=False),
        sa.Column('class_name', sa.String(length=100), nullable=False),
        sa.Column('college_id', sa.Integer(), nullable=False),
        sa.Column('counsellor_id', sa.Integer(), nullable=False),
        sa.Column('supervisor_id', sa.Integer(), nullable=True),
        sa.Column('phone', sa.String(length=32), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('province', sa.String(length=50), nullable=False),
        sa.Column('city', sa.String(length=50), nullable=False),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('on_campus', sa.Boolean(), nullable=False),
        sa.Column('employed', sa.Boolean(), nullable=False),
        sa.Column('leaving', sa.String(length=10), nullable=True),
        sa.Column('left_on', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_staged_students_job_id_jobs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_students')),
    )
    with op.batch_alter_table('staged_students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_students_job_id'), ['job_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_students_job_id'))
    op.drop_table('staged_students')
