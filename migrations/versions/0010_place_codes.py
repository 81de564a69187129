"""places stored by their codes: province and city codes beside the names of students and
daily statuses, and the names of existing rows normalised; a student record merged into
another becomes a pointer to it (students.merged_into_id), and each merge is kept
(student_merges) so it can be undone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12

Every (province, city) pair already stored is normalised once ("天津市/和平区" becomes 天津/天津,
"湖北省"/"武汉市" becomes 湖北/武汉) and given its GB/T 2260 codes; a place the provinces-and-cities
dataset does not have keeps its text and empty codes. The downgrade drops the codes and leaves
the normalised names.
"""
from alembic import op
import sqlalchemy as sa

import caretrack.models.base


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('students', 'daily_statuses')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('province_code', sa.String(length=6), nullable=False,
                                          server_default=''))
            batch_op.add_column(sa.Column('city_code', sa.String(length=6), nullable=False,
                                          server_default=''))
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_students_merged_into_id'), ['merged_into_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_students_merged_into_id_students'),
                                    'students', ['merged_into_id'], ['id'])
    op.create_table(
        'student_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('survivor_id', sa.Integer(), nullable=False),
        sa.Column('merged_id', sa.Integer(), nullable=False),
        sa.Column('merged_by_id', sa.Integer(), nullable=True),
        sa.Column('merged_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('moved', sa.Text(), nullable=False),
        sa.Column('survivor_version', sa.Integer(), nullable=False),
        sa.Column('undone_at', caretrack.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('undone_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['merged_by_id'], ['users.id'],
                                name=op.f('fk_student_merges_merged_by_id_users')),
        sa.ForeignKeyConstraint(['merged_id'], ['students.id'],
                                name=op.f('fk_student_merges_merged_id_students')),
        sa.ForeignKeyConstraint(['survivor_id'], ['students.id'],
                                name=op.f('fk_student_merges_survivor_id_students')),
        sa.ForeignKeyConstraint(['undone_by_id'], ['users.id'],
                                name=op.f('fk_student_merges_undone_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_student_merges')),
    )
    with op.batch_alter_table('student_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_student_merges_merged_id'), ['merged_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_student_merges_survivor_id'), ['survivor_id'],
                              unique=False)

    from caretrack.services.places import normalise_place

    connection = op.get_bind()
    for table in TABLES:
        pairs = connection.execute(sa.text(
            f"SELECT DISTINCT province, city FROM {table}")).all()
        for province, city in pairs:
            place = normalise_place(province or '', city or '')
            connection.execute(sa.text(
                f"UPDATE {table} SET province = :new_province, city = :new_city, "
                "province_code = :province_code, city_code = :city_code "
                "WHERE province = :province AND city = :city"),
                {"new_province": place.province[:50], "new_city": place.city[:50],
                 "province_code": place.province_code, "city_code": place.city_code,
                 "province": province, "city": city})


def downgrade():
    op.drop_table('student_merges')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_students_merged_into_id_students'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_students_merged_into_id'))
        batch_op.drop_column('merged_into_id')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('city_code')
            batch_op.drop_column('province_code')
