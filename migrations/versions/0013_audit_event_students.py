"""the students an audit event concerns when it concerns several (bulk actions, transfers);
append-only like the events themselves

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

MESSAGE = "audit_event_students is append-only"


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
    # As audit_events (0005): the database refuses to change or delete a row.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_event_students_no_change BEFORE UPDATE OR DELETE
            ON audit_event_students FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)
        op.execute("""
            CREATE TRIGGER audit_event_students_no_truncate BEFORE TRUNCATE
            ON audit_event_students FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_event_students_no_{verb.lower()} BEFORE {verb}
                ON audit_event_students BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_students_no_truncate ON audit_event_students")
        op.execute("DROP TRIGGER IF EXISTS audit_event_students_no_change ON audit_event_students")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_students_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_students_no_delete")
    with op.batch_alter_table('audit_event_students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_students_student_id'))
    op.drop_table('audit_event_students')
