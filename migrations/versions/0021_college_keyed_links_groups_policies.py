"""per college: class check-in links and class groups keyed by (college, class), the message
log's college, one retention policy per college, the dashboard's kept activity per college

Existing rows go to the college they belong to: a class link to the college of its class's
students (the one with most of them; another college's class of that name gets a link of its
own on first use), a class group to the college of the counsellor who set it, a message to
its counsellor's, the policy to every college. A class link issued before keeps its token
until its next rotation. The kept activity days are a cache: they are counted again, per
college, at the next status write.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('checkin_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unscoped', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # A class link belongs to the college with most of the class's students (ties: the first).
    for link_id, class_name in bind.execute(sa.text(
            "SELECT id, class_name FROM checkin_links WHERE kind = 'class'")).all():
        college_id = bind.scalar(sa.text(
            "SELECT college_id FROM students WHERE class_name = :name GROUP BY college_id "
            "ORDER BY COUNT(*) DESC, college_id LIMIT 1"), {"name": class_name})
        if college_id is None:
            bind.execute(sa.text("DELETE FROM checkin_links WHERE id = :id"), {"id": link_id})
        else:
            bind.execute(sa.text(
                "UPDATE checkin_links SET college_id = :college, unscoped = :yes WHERE id = :id"),
                {"college": college_id, "yes": True, "id": link_id})
    with op.batch_alter_table('checkin_links', schema=None) as batch_op:
        batch_op.alter_column('unscoped', server_default=None)
        batch_op.drop_constraint(batch_op.f('uq_checkin_links_class_name'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_checkin_links_college_id'),
                                          ['college_id', 'class_name'])
        batch_op.create_foreign_key(batch_op.f('fk_checkin_links_college_id_colleges'),
                                    'colleges', ['college_id'], ['id'])

    with op.batch_alter_table('class_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
    op.execute(sa.text(
        "UPDATE class_groups SET college_id = "
        "(SELECT users.college_id FROM users WHERE users.id = class_groups.set_by_id)"))
    op.execute(sa.text("DELETE FROM class_groups WHERE college_id IS NULL"))
    with op.batch_alter_table('class_groups', schema=None) as batch_op:
        batch_op.alter_column('college_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_class_groups_class_name'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_class_groups_college_id'),
                                          ['college_id', 'class_name'])
        batch_op.create_foreign_key(batch_op.f('fk_class_groups_college_id_colleges'),
                                    'colleges', ['college_id'], ['id'])

    with op.batch_alter_table('message_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_message_log_college_id_colleges'),
                                    'colleges', ['college_id'], ['id'])
    op.execute(sa.text(
        "UPDATE message_log SET college_id = "
        "(SELECT users.college_id FROM users WHERE users.id = message_log.counsellor_id) "
        "WHERE channel != 'email'"))

    with op.batch_alter_table('retention_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
    # The installation's policy (there was one at most) becomes each college's.
    policy_id = bind.scalar(sa.text("SELECT MIN(id) FROM retention_policies"))
    first = bind.scalar(sa.text("SELECT MIN(id) FROM colleges"))
    if policy_id is not None and first is None:
        op.execute(sa.text("DELETE FROM retention_policies"))
    elif policy_id is not None:
        bind.execute(sa.text("DELETE FROM retention_policies WHERE id != :id"), {"id": policy_id})
        bind.execute(sa.text("UPDATE retention_policies SET college_id = :college"),
                     {"college": first})
        bind.execute(sa.text(
            "INSERT INTO retention_policies (college_id, emergency_ended_on, retention_days, "
            "class_days, updated_by_id, updated_at, version_id) "
            "SELECT colleges.id, p.emergency_ended_on, p.retention_days, p.class_days, "
            "p.updated_by_id, p.updated_at, 1 FROM colleges, retention_policies p "
            "WHERE colleges.id != :first AND p.id = :policy"),
            {"first": first, "policy": policy_id})
    with op.batch_alter_table('retention_policies', schema=None) as batch_op:
        batch_op.alter_column('college_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_retention_policies_college_id'),
                                          ['college_id'])
        batch_op.create_foreign_key(batch_op.f('fk_retention_policies_college_id_colleges'),
                                    'colleges', ['college_id'], ['id'])

    with op.batch_alter_table('retention_purges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('college_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_retention_purges_college_id'), ['college_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_retention_purges_college_id_colleges'),
                                    'colleges', ['college_id'], ['id'])

    op.drop_table('activity_days')
    op.create_table(
        'activity_days',
        sa.Column('college_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('follow_ups', sa.Integer(), nullable=False),
        sa.Column('deliveries', sa.Integer(), nullable=False),
        sa.Column('new_categories', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['college_id'], ['colleges.id'],
                                name=op.f('fk_activity_days_college_id_colleges')),
        sa.PrimaryKeyConstraint('college_id', 'day', name=op.f('pk_activity_days')),
    )


def downgrade():
    op.drop_table('activity_days')
    op.create_table(
        'activity_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('follow_ups', sa.Integer(), nullable=False),
        sa.Column('deliveries', sa.Integer(), nullable=False),
        sa.Column('new_categories', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', name=op.f('pk_activity_days')),
    )
    with op.batch_alter_table('retention_purges', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_retention_purges_college_id_colleges'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_retention_purges_college_id'))
        batch_op.drop_column('college_id')
    op.execute(sa.text("DELETE FROM retention_policies WHERE id NOT IN "
                       "(SELECT MIN(id) FROM retention_policies)"))
    with op.batch_alter_table('retention_policies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_retention_policies_college_id_colleges'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_retention_policies_college_id'), type_='unique')
        batch_op.drop_column('college_id')
    with op.batch_alter_table('message_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_message_log_college_id_colleges'),
                                 type_='foreignkey')
        batch_op.drop_column('college_id')
    op.execute(sa.text("DELETE FROM class_groups WHERE id NOT IN "
                       "(SELECT MIN(id) FROM class_groups GROUP BY class_name)"))
    with op.batch_alter_table('class_groups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_class_groups_college_id_colleges'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_class_groups_college_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_class_groups_class_name'),
                                          ['class_name'])
        batch_op.drop_column('college_id')
    op.execute(sa.text("DELETE FROM checkin_links WHERE kind = 'class' AND id NOT IN "
                       "(SELECT MIN(id) FROM checkin_links WHERE kind = 'class' "
                       "GROUP BY class_name)"))
    with op.batch_alter_table('checkin_links', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkin_links_college_id_colleges'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_checkin_links_college_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_checkin_links_class_name'),
                                          ['class_name'])
        batch_op.drop_column('unscoped')
        batch_op.drop_column('college_id')
