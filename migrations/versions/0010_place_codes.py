"""places stored by their codes: province and city codes beside the names of students and
daily statuses, and the names of existing rows normalised

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-12

Every (province, city) pair already stored is normalised once ("天津市/和平区" becomes 天津/天津,
"湖北省"/"武汉市" becomes 湖北/武汉) and given its GB/T 2260 codes; a place the provinces-and-cities
dataset does not have keeps its text and empty codes. The downgrade drops the codes and leaves
the normalised names.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
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
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('city_code')
            batch_op.drop_column('province_code')
