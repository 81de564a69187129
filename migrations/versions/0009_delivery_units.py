"""supply delivery lines: a quantity as a number in text ("1.5") and a unit (箱, kg, ...)

The stored whole-number quantities become text, and a unit is added to every line: the one a
line's name ends with in brackets when it is a usual unit ("方便面（箱）" becomes 方便面, 箱),
otherwise none.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

UNITS = {"个", "箱", "袋", "瓶", "包", "盒", "份", "提", "支", "桶", "斤", "kg", "升"}
BRACKETED = re.compile(r"^(?P<name>.+?)\s*[（(](?P<unit>[^（）()]{1,3})[）)]$")

entries = sa.table(
    'timeline_entries',
    sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('details', sa.JSON),
)


def _upgrade_line(line: dict) -> dict:
    if "unit" in line:
        return line
    name, unit = line.get("name", ""), ""
    found = BRACKETED.match(name)
    if found and found["unit"] in UNITS:
        name, unit = found["name"], found["unit"]
    return {"name": name, "quantity": str(line.get("quantity", "")), "unit": unit}


def _downgrade_line(line: dict) -> dict:
    name, unit = line.get("name", ""), line.get("unit", "")
    try:
        quantity = max(1, round(float(line.get("quantity", 1))))
    except ValueError:
        quantity = 1
    return {"name": f"{name}（{unit}）" if unit else name, "quantity": quantity}


def _rewrite(change) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.details).where(entries.c.kind == 'delivery')
    ).all()
    for entry_id, details in rows:
        if not details or not isinstance(details.get("items"), list):
            continue
        items = [change(line) for line in details["items"]]
        if items != details["items"]:
            connection.execute(entries.update().where(entries.c.id == entry_id)
                               .values(details={**details, "items": items}))


def upgrade():
    _rewrite(_upgrade_line)


def downgrade():
    _rewrite(_downgrade_line)
