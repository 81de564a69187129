"""the students an audit event concerns when it concerns several (bulk actions, transfers)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_event_students',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'],
                                name=op.f('fk_audit_event_students_event_id_audit_events')),
        sa.ForeignKeyConstraint(['student_id'], ['students.id'],
                                name=op.f('fk_audit_event_students_student_id_students')),
        sa.PrimaryKeyConstraint('event_id', 'student_id', name=op.f('pk_audit_event_students')),
    )
    with op.batch_alter_table('audit_event_students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_students_student_id'), ['student_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('audit_event_students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_students_student_id'))
    op.drop_table('audit_event_students')
