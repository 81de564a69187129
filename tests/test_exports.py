"""Exports of the caseload, the roster and the audit log: what the user may see, in the
interface language, formula-safe, each one an audit event."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import AuditEvent
from caretrack.services.audit import record_event
from caretrack.services.cases import assign_category
from caretrack.services.exports import ExportColumn, cell_value, export_list
from tests import factories
from tests.helpers import count_queries, text_of


def rows_of(response) -> list[list]:
    """The rows of a downloaded XLSX or CSV file, header first."""
    body = response.get_data()
    if response.mimetype == "text/csv":
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def column(rows, header) -> list:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def export_events():
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()


# The caseload


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_counsellor_exports_exactly_their_caseload(client, auth, college, fmt):
    auth.login(college.counsellor)
    response = client.get(f"/students/export/{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E5%AD%A6%E7%94%9F%E5%90%8D%E5%8D%95-" in (
        response.headers["Content-Disposition"])  # 学生名单-<date>
    rows = rows_of(response)
    assert rows[0][:4] == ["学号", "姓名", "性别", "培养层次"]
    assert sorted(column(rows, "姓名")) == sorted(["陈小明", "赵研究"])
    assert "刘小红" not in str(rows)
    assert column(rows, "学号") == sorted(
        [college.own_student.student_number, college.graduate.student_number])


def test_export_keeps_the_lists_filters(client, auth, college):
    auth.login(college.counsellor)
    rows = rows_of(client.get("/students/export/csv?programme=master&page=3"))
    assert column(rows, "姓名") == ["赵研究"]
    assert column(rows, "导师") == ["王教授"]
    rows = rows_of(client.get("/students/export/csv?q=刘小红"))
    assert rows[1:] == []  # another counsellor's student is not found by search either


def test_headers_and_values_follow_the_interface_language(client, auth, college):
    hubei = factories.CategoryFactory(code="hubei", name_zh="在湖北", name_en="In Hubei")
    assign_category(college.own_student, hubei, college.counsellor, started_on=date(2020, 2, 1))
    db.session.commit()
    auth.login(college.counsellor)
    rows = rows_of(client.get("/students/export/xlsx"))
    own = rows[1] if rows[1][1] == "陈小明" else rows[2]
    record = dict(zip(rows[0], own, strict=True))
    assert record["关怀类别"] == "在湖北" and record["性别"] == "女"
    assert record["培养层次"] == "本科" and record["是否在校"] == "否"
    assert record["辅导员"] == "李老师" and record["年级"] == 2017
    rows = rows_of(client.get("/students/export/xlsx?lang=en"))
    own = rows[1] if rows[1][1] == "陈小明" else rows[2]
    record = dict(zip(rows[0], own, strict=True))
    assert record["Care categories"] == "In Hubei" and record["Gender"] == "Female"
    assert record["Programme"] == "Undergraduate" and record["On campus (yes/no)"] == "No"


def test_supervisor_exports_only_referred_students(client, auth, college):
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)
    db.session.commit()
    auth.login(college.supervisor)
    assert column(rows_of(client.get("/students/export/csv")), "姓名") == ["赵研究"]


def test_deputy_exports_the_whole_college(client, auth, college):
    auth.login(college.deputy)
    rows = rows_of(client.get("/students/export/csv"))
    assert sorted(column(rows, "姓名")) == sorted(["陈小明", "刘小红", "赵研究"])


def test_admin_cannot_export_case_lists(client, auth, college):
    auth.login(college.admin)
    assert client.get("/students/export/xlsx").status_code == 404
    assert client.get("/students/export/pdf").status_code == 404


def test_every_export_is_an_audit_event(client, auth, college):
    auth.login(college.counsellor)
    client.get("/students/export/xlsx?programme=master")
    client.get("/students/export/csv")
    events = export_events()
    assert [(e.user_id, e.detail) for e in events] == [
        (college.counsellor.id, "list=caseload format=xlsx rows=1"),
        (college.counsellor.id, "list=caseload format=csv rows=2"),
    ]
    assert events[0].ip == "127.0.0.1"


def test_formula_cells_are_neutralised(client, auth, college):
    college.own_student.name = '=HYPERLINK("http://evil.example","点我")'
    college.own_student.phone = "+8613800000000"
    college.own_student.class_name = " @SUM(1+1)"
    db.session.commit()
    auth.login(college.counsellor)
    rows = rows_of(client.get("/students/export/csv"))
    assert "'=HYPERLINK(\"http://evil.example\",\"点我\")" in column(rows, "姓名")
    assert "'+8613800000000" in column(rows, "手机")
    assert "' @SUM(1+1)" in column(rows, "班级")
    response = client.get("/students/export/xlsx")
    xml = zipfile.ZipFile(io.BytesIO(response.get_data())).read(
        "xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == college.own_student.name]
    assert cells and all(c.data_type == "s" for c in cells)


def test_caseload_export_issues_a_constant_number_of_queries(client, auth, college):
    category = factories.CategoryFactory()
    auth.login(college.counsellor)

    def export_count():
        with count_queries() as counter:
            assert client.get("/students/export/xlsx").status_code == 200
        return counter.count

    small = export_count()
    for n in range(30):
        student = factories.StudentFactory(counsellor=college.counsellor,
                                           supervisor=college.supervisor)
        assign_category(student, category, college.counsellor, started_on=date(2020, 2, n % 28 + 1))
    db.session.commit()
    assert export_count() == small


def test_export_buttons_carry_the_lists_filters(client, auth, college):
    auth.login(college.counsellor)
    body = client.get("/students/?programme=master&page=2&lang=zh_CN").get_data(as_text=True)
    assert 'href="/students/export/xlsx?programme=master"' in body
    assert 'href="/students/export/csv?programme=master"' in body
    assert "导出 XLSX" in body and "导出 CSV" in body
    assert "Export XLSX" in client.get("/students/?lang=en").get_data(as_text=True)


# The roster


def test_admin_exports_the_roster_with_its_search(client, auth, college):
    auth.login(college.admin)
    rows = rows_of(client.get("/admin/roster/export/xlsx"))
    assert sorted(column(rows, "姓名")) == sorted(["陈小明", "刘小红", "赵研究"])
    assert column(rows, "学号") == sorted(column(rows, "学号"))
    assert all(isinstance(n, str) and n.startswith("0") for n in column(rows, "学号"))
    rows = rows_of(client.get("/admin/roster/export/csv?q=小红"))
    assert column(rows, "姓名") == ["刘小红"]
    assert export_events()[-1].detail == "list=roster format=csv rows=1"


def test_roster_export_names_people_so_the_import_finds_them(client, auth, college):
    twin = factories.SupervisorFactory(display_name="王教授")  # two supervisors named 王教授
    factories.StudentFactory(counsellor=college.counsellor, supervisor=twin, name="孙硕",
                             programme="master")
    db.session.commit()
    auth.login(college.admin)
    rows = rows_of(client.get("/admin/roster/export/csv"))
    supervisors = dict(zip(column(rows, "姓名"), column(rows, "导师"), strict=True))
    assert supervisors["赵研究"] == college.supervisor.username
    assert supervisors["孙硕"] == twin.username
    assert supervisors["陈小明"] == ""
    counsellors = dict(zip(column(rows, "姓名"), column(rows, "辅导员"), strict=True))
    assert counsellors["陈小明"] == "李老师"


# The audit log


def test_audit_log_export_with_the_pages_filters(client, auth, college):
    record_event("student.view", college.counsellor, college.own_student.id)
    event = record_event("student.view", college.deputy, college.other_student.id)
    event.occurred_at = datetime(2020, 2, 3, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
    record_event("login", college.deputy)
    db.session.commit()
    auth.login(college.admin)
    rows = rows_of(client.get(f"/admin/audit/export/csv?action=student.view&user={college.deputy.id}"))
    assert rows[0][:5] == ["时间", "用户", "操作", "操作代码", "学号"]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["时间"] == "2020-02-03 10:30:00"
    assert record["用户"] == f"王副书记 ({college.deputy.username})"
    assert record["学号"] == college.other_student.student_number
    assert record["姓名"] == "刘小红"
    rows = rows_of(client.get(
        f"/admin/audit/export/xlsx?student_number={college.own_student.student_number}"))
    assert column(rows, "操作代码") == ["student.view"]
    rows = rows_of(client.get("/admin/audit/export/xlsx?date_from=2020-02-03&date_to=2020-02-03"))
    assert column(rows, "时间") == [datetime(2020, 2, 3, 10, 30)]
    assert [e.detail for e in export_events()] == [
        "list=audit format=csv rows=1", "list=audit format=xlsx rows=1",
        "list=audit format=xlsx rows=1",
    ]


def test_only_the_admin_exports_the_audit_log_and_the_roster(client, auth, college):
    auth.login(college.deputy)
    assert client.get("/admin/audit/export/csv").status_code == 404
    assert client.get("/admin/roster/export/csv").status_code == 404
    assert export_events() == []


# The helper other lists use


def test_export_helper_cells(app):
    assert cell_value(True) == "是" and cell_value(None) == ""
    assert cell_value(datetime(2020, 2, 3, 16, 0, 30, 5, tzinfo=UTC)) == datetime(2020, 2, 4, 0, 0, 30)
    assert cell_value(date(2020, 2, 3)) == date(2020, 2, 3)
    with pytest.raises(ValueError):
        export_list("x", "pdf", [ExportColumn("a", str)], [], None, title="x",
                        now=datetime.now(UTC))


# A large export is a job


@pytest.fixture
def small_threshold(app, monkeypatch):
    """Lists of more than 2 rows are large (the college has 3 students)."""
    from caretrack.services import export_jobs

    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setattr(export_jobs, "JOB_THRESHOLD", 2)


def test_a_large_export_is_a_job_whose_file_waits_a_day(client, auth, college, small_threshold):
    from datetime import timedelta

    from caretrack.models import Job, JobState, StoredFile, now_utc

    auth.login(college.deputy)
    response = client.get("/students/export/csv?on_campus=")
    job_url = response.headers["Location"]
    assert job_url.startswith("/jobs/")
    job = db.session.get(Job, int(job_url.rsplit("/", 1)[1]))
    assert (job.kind, job.state, job.owner_id, job.result["rows"]) == (
        "exports.list", JobState.DONE, college.deputy.id, 3)
    page = text_of(client.get(job_url))
    assert "学生名单-" in page and "已准备好：3 行" in page
    assert "导出" in text_of(client.get("/jobs/"))
    rows = rows_of(client.get(f"{job_url}/download"))
    assert sorted(column(rows, "姓名")) == sorted(["陈小明", "刘小红", "赵研究"])
    event = export_events()[-1]
    assert (event.user_id, event.detail, event.ip) == (
        college.deputy.id, "list=caseload format=csv rows=3", "127.0.0.1")
    kept = db.session.get(StoredFile, job.file_id)
    assert kept.owner_id == college.deputy.id
    assert kept.expires_at - kept.created_at == timedelta(days=1)
    # another user reaches neither the job nor its file
    auth.logout()
    auth.login(college.counsellor)
    assert client.get(f"{job_url}/download").status_code == 404
    # after a day the file is gone, and the page says so
    kept.expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    auth.logout()
    auth.login(college.deputy)
    assert client.get(f"{job_url}/download").status_code == 404
    assert "文件已不再保留" in text_of(client.get(job_url))


def test_a_large_export_keeps_the_filters_and_what_the_user_may_see(
        client, auth, college, small_threshold):
    from caretrack.models import Job

    auth.login(college.counsellor)  # two students: a small export, at once
    response = client.get("/students/export/xlsx")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    auth.logout()
    auth.login(college.deputy)
    response = client.get("/students/export/xlsx?lang=en")
    job = db.session.get(Job, int(response.headers["Location"].rsplit("/", 1)[1]))
    rows = rows_of(client.get(f"/jobs/{job.id}/download"))
    assert rows[0][:2] == ["Student number", "Name"]  # in the language of the request
    assert len(rows) == 4
    assert db.session.scalar(select(func.count(Job.id))) == 1
