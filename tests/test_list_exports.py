"""The re-check and referral lists download as exactly what the user may see."""

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import AuditEvent
from caretrack.services import referrals as lifecycle
from caretrack.services.rechecks import schedule
from tests import factories


def _csv_rows(response):
    return response.get_data(as_text=True).lstrip("\ufeff").splitlines()


def test_recheck_export_holds_only_the_counsellors_own(client, auth, college):
    schedule(college.own_student, due_on=date(2099, 1, 2), reason="=HYPERLINK(1)",
             origin="manual", by=college.counsellor)
    schedule(college.other_student, due_on=date(2099, 1, 3), reason="别人的复查",
             origin="manual", by=college.other_counsellor)
    db.session.commit()
    auth.login(college.counsellor)
    rows = _csv_rows(client.get("/rechecks/export/csv"))
    assert rows[0].startswith("到期,学号,姓名")
    assert len(rows) == 2 and "陈小明" in rows[1]
    assert "'=HYPERLINK(1)" in rows[1]  # a formula is neutralised
    assert "别人的复查" not in "".join(rows)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert "rechecks" in event.detail


def test_referral_export_in_english_and_xlsx(client, auth, college):
    lifecycle.refer(college.graduate, college.supervisor, college.counsellor, reason="论文压力")
    other = factories.StudentFactory(counsellor=college.other_counsellor, programme="phd")
    lifecycle.refer(other, factories.SupervisorFactory(), college.other_counsellor,
                    reason="别人的转介")
    db.session.commit()
    auth.login(college.supervisor)
    response = client.get("/referrals/export/xlsx?lang=en")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[0]
    assert "Student number" in header and "Supervisor" in header
    assert len(values) == 2 and "论文压力" in values[1]
