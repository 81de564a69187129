"""Importing the roster: preview, confirm, all or nothing; the page, the command, bad files."""

import io
import random
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from caretrack.demo import SEED, DemoContext
from caretrack.demo.college import build_college
from caretrack.extensions import db
from caretrack.models import AuditEvent, StoredFile, Student, User, now_utc
from caretrack.services import roster_import
from caretrack.services.roster_import import COLUMNS, preview_import
from tests import factories
from tests.helpers import count_queries, text_of

ZH = ["学号", "姓名", "性别", "培养层次", "年级", "班级", "辅导员", "导师", "手机", "所在省份",
      "所在城市", "是否在校", "是否在职", "离校类型", "离校日期", "电子邮箱"]
EN = ["Student number", "Name", "Gender", "Programme", "Cohort", "Class", "Counsellor",
      "Supervisor", "Phone", "Province", "City", "On campus (yes/no)", "Employed (yes/no)",
      "Left the college", "Left on", "Email"]


def kept_files() -> list[str]:
    """The names of the uploaded files kept in the database."""
    return list(db.session.scalars(select(StoredFile.filename)))


@pytest.fixture
def demo_college(app):
    """The demo college's accounts and its 2,458 students (seed-demo without its season of
    history, which takes a minute and does not touch the roster)."""
    ctx = DemoContext(rng=random.Random(SEED), today=date.today(), now=datetime.now(UTC))
    build_college(ctx)
    db.session.commit()
    return ctx.college


def csv_of(rows, headers=ZH, encoding="utf-8") -> bytes:
    lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def new_row(number, name, counsellor, **changes):
    row = {"学号": number, "姓名": name, "性别": "女", "培养层次": "本科", "年级": "2019",
           "班级": "2019级会计学1班", "辅导员": counsellor, "导师": "", "手机": "13900000000",
           "所在省份": "河南", "所在城市": "郑州", "是否在校": "否", "是否在职": "否",
           "离校类型": "", "离校日期": "", "电子邮箱": ""}
    row.update(changes)
    return [row[h] for h in ZH]


def row_of(student: Student, **changes):
    """The student as a row of the Chinese roster file."""
    row = {"学号": student.student_number, "姓名": student.name,
           "性别": {"M": "男", "F": "女"}[student.gender],
           "培养层次": {"undergraduate": "本科", "master": "硕士", "phd": "博士"}[student.programme],
           "年级": student.cohort, "班级": student.class_name,
           "辅导员": student.counsellor.username,
           "导师": student.supervisor.username if student.supervisor else "",
           "手机": student.phone, "所在省份": student.province, "所在城市": student.city,
           "是否在校": "是" if student.on_campus else "否",
           "是否在职": "是" if student.employed else "否",
           "离校类型": "", "离校日期": "", "电子邮箱": student.email}
    row.update(changes)
    return [row[h] for h in ZH]


def upload(client, data: bytes, filename="roster.csv"):
    return client.post("/admin/roster/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def preview_page(client, data: bytes, filename="roster.csv"):
    """Upload a file and follow to its preview: (preview response, preview URL)."""
    response = upload(client, data, filename)
    assert response.status_code == 302, text_of(response)
    url = response.headers["Location"]
    return client.get(url), url


def fingerprint_of(response) -> str:
    match = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                      response.get_data(as_text=True))
    assert match, "the preview has no confirm form"
    return match.group(1)


def summary(response) -> dict[str, int]:
    found = re.findall(r'data-summary="(\w+)">(\d+)<', response.get_data(as_text=True))
    return {key: int(value) for key, value in found}


def snapshot() -> dict:
    """Every student with every column, and the number of rows of every other table (but the
    bookkeeping: the audit, the kept upload and the import's job)."""
    students = db.session.execute(select(Student.__table__).order_by(Student.id)).all()
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in ("audit_events", "jobs", "stored_files")
    }
    return {"students": [tuple(s) for s in students], "counts": counts}


# The page and the template


def test_import_page_lists_the_columns(client, auth, college):
    auth.login(college.admin)
    response = client.get("/admin/roster/import")
    page = text_of(response)
    assert "导入学生" in page and 'value="检查文件"' in response.get_data(as_text=True)
    assert all(h in page for h in ZH) and "Student number" in page
    assert "文件最大 16 MB" in page
    english = client.get("/admin/roster/import?lang=en").get_data(as_text=True)
    assert "Import students" in english and 'value="Check the file"' in english
    roster = client.get("/admin/roster?lang=zh_CN").get_data(as_text=True)
    assert 'href="/admin/roster/import"' in roster
    assert 'href="/admin/roster/export/xlsx"' in roster


def test_column_labels_translate_to_their_chinese_headers(client, auth, college):
    """The roster export's Chinese headers are the import's Chinese headers."""
    assert [c.zh for c in COLUMNS] == ZH and [c.en for c in COLUMNS] == EN
    auth.login(college.admin)
    body = client.get("/admin/roster/export/csv").get_data().decode("utf-8-sig")
    assert body.splitlines()[0] == ",".join(ZH)
    body = client.get("/admin/roster/export/csv?lang=en").get_data().decode("utf-8-sig")
    assert body.splitlines()[0] == ",".join(EN)


def test_template_keeps_student_numbers_as_text_and_imports_once_filled(client, auth, college):
    auth.login(college.admin)
    response = client.get("/admin/roster/template.xlsx")
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == ZH
    assert sheet.column_dimensions["A"].number_format == "@"
    assert workbook.sheetnames[1] == "填写说明"
    assert "男 或 女" in " ".join(str(c.value) for c in workbook.worksheets[1]["D"])

    template = response.get_data()
    assert "文件只有列标题，没有学生" in text_of(upload(client, template, "template.xlsx"))

    sheet.append(new_row("000123", "新同学", college.counsellor.display_name))
    buffer = io.BytesIO()
    workbook.save(buffer)
    page, _url = preview_page(client, buffer.getvalue(), "template.xlsx")
    assert summary(page) == {"create": 1, "update": 0, "unchanged": 0, "errors": 0}

    english = client.get("/admin/roster/template.csv?lang=en").get_data().decode("utf-8-sig")
    assert english.strip() == ",".join(EN)


# Creating and updating students


def test_new_students_are_previewed_then_created_on_confirm(client, auth, college):
    auth.login(college.admin)
    data = csv_of([
        new_row("000123", "新同学甲", college.counsellor.display_name),
        new_row("2019010002", "新同学乙", college.other_counsellor.username,
                **{"培养层次": "硕士", "导师": college.supervisor.display_name,
                   "是否在校": "是"}),
    ])
    page, url = preview_page(client, data)
    text = text_of(page)
    assert summary(page) == {"create": 2, "update": 0, "unchanged": 0, "errors": 0}
    assert "000123" in text and "新同学甲" in text and "李老师" in text
    assert "CareTrack 中有 3 名学生不在文件中，他们保持不变。" in text
    assert db.session.scalar(select(func.count(Student.id))) == 3  # nothing written yet

    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    assert response.headers["Location"].endswith("/admin/roster")
    assert "名册已导入：新建 2 名学生，更新 0 名，0 名无变化。" in text_of(
        client.get("/admin/roster"))
    first = db.session.scalars(select(Student).where(Student.student_number == "000123")).one()
    assert (first.name, first.counsellor_id, first.supervisor_id, first.gender) == (
        "新同学甲", college.counsellor.id, None, "F")
    assert (first.cohort, first.class_name, first.phone, first.province, first.city) == (
        2019, "2019级会计学1班", "13900000000", "河南", "郑州")
    second = db.session.scalars(
        select(Student).where(Student.student_number == "2019010002")).one()
    assert (second.programme, second.supervisor_id, second.on_campus) == (
        "master", college.supervisor.id, True)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.import")).one()
    assert event.user_id == college.admin.id and event.detail == "created=2 updated=0"
    assert event.ip == "127.0.0.1"


def test_updates_show_their_diff_and_apply_exactly_it(client, auth, college):
    student = college.own_student
    before = {c: getattr(student, c) for c in ("phone", "province", "city", "concern_level",
                                                "name", "cohort", "gender")}
    other_version = college.other_student.version_id
    auth.login(college.admin)
    # Only the required columns: the others stay as they are.
    required = ZH[:7]
    data = csv_of([
        row_of(student, **{"班级": "2017级金融学2班", "辅导员": "张老师"})[:7],
        row_of(college.other_student)[:7],
    ], headers=required)
    page, url = preview_page(client, data)
    text = text_of(page)
    assert summary(page) == {"create": 0, "update": 1, "unchanged": 1, "errors": 0}
    assert f"班级： {student.class_name} → 2017级金融学2班" in text
    assert (f"辅导员： 李老师 ({college.counsellor.username}) → "
            f"张老师 ({college.other_counsellor.username})") in text
    assert "手机" not in text.split("将更新")[-1]  # no other field changes

    client.post(url, data={"fingerprint": fingerprint_of(page)})
    db.session.expire_all()
    assert student.class_name == "2017级金融学2班"
    assert student.counsellor_id == college.other_counsellor.id
    assert {c: getattr(student, c) for c in before} == before
    assert college.other_student.version_id == other_version
    assert kept_files() == []  # the kept file is gone


def test_a_student_who_left_is_imported_with_the_leaving_date(client, auth, college):
    """Graduated or withdrawn, and the day: the retention policy counts from it."""
    student = college.own_student
    auth.login(college.admin)
    page, url = preview_page(client, csv_of([
        row_of(student, **{"离校类型": "毕业", "离校日期": "2020/6/30"}),
        new_row("2020999", "钱退学", college.counsellor.username,
                **{"离校类型": "退学", "离校日期": "2020-05-08"}),
    ]))
    assert summary(page) == {"create": 1, "update": 1, "unchanged": 0, "errors": 0}
    assert "离校类型： — → 毕业" in text_of(page)
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    db.session.expire_all()
    assert (student.leaving, student.left_on) == ("graduated", date(2020, 6, 30))
    left = db.session.scalars(select(Student).where(Student.student_number == "2020999")).one()
    assert (left.leaving, left.left_on) == ("withdrawn", date(2020, 5, 8))


def test_the_students_email_is_imported_checked_and_exported(client, auth, college):
    student = college.own_student
    auth.login(college.admin)
    page, url = preview_page(client, csv_of([
        row_of(student, 电子邮箱="chen.xm@example.edu.cn"),
        new_row("2020998", "孙邮件", college.counsellor.username, 电子邮箱=" sun@stu.example.cn"),
        new_row("2020997", "周无邮箱", college.counsellor.username, 电子邮箱="zhou@example"),
        new_row("2020996", "吴空格", college.counsellor.username, 电子邮箱="wu @example.cn"),
    ]))
    text = text_of(page)
    assert summary(page) == {"create": 1, "update": 1, "unchanged": 0, "errors": 2}
    assert "电子邮箱： — → chen.xm@example.edu.cn" in text
    # the bad addresses: their row and column (P, the 16th)
    errors = page.get_data(as_text=True).split('id="import-errors"')[1]
    assert errors.count(">P</span> 电子邮箱") == 2
    assert "zhou@example 不是电子邮箱地址" in text and "wu @example.cn 不是电子邮箱地址" in text
    page, url = preview_page(client, csv_of([
        row_of(student, 电子邮箱="chen.xm@example.edu.cn"),
        new_row("2020998", "孙邮件", college.counsellor.username, 电子邮箱=" sun@stu.example.cn")]))
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    db.session.expire_all()
    assert student.email == "chen.xm@example.edu.cn"
    assert db.session.scalars(select(Student.email).where(
        Student.student_number == "2020998")).one() == "sun@stu.example.cn"
    exported = client.get("/admin/roster/export/csv").get_data().decode("utf-8-sig")
    assert exported.splitlines()[0].endswith(",离校日期,电子邮箱")
    assert "chen.xm@example.edu.cn" in exported and "sun@stu.example.cn" in exported
    # "-" clears it
    page, url = preview_page(client, csv_of([row_of(student, 电子邮箱="-")]))
    assert "电子邮箱： chen.xm@example.edu.cn → —" in text_of(page)


def test_a_bad_leaving_cell_names_its_row_and_column(client, auth, college):
    auth.login(college.admin)
    page, _ = preview_page(client, csv_of([
        row_of(college.own_student, **{"离校类型": "休学", "离校日期": "六月"})]))
    text = text_of(page)
    assert "写 毕业 或 退学" in text or "毕业" in text
    assert summary(page)["errors"] >= 1


def test_switching_language_between_preview_and_confirm_changes_nothing(client, auth, college):
    auth.login(college.admin)
    data = csv_of([row_of(college.own_student, **{"性别": "男", "是否在校": "是"})])
    page, url = preview_page(client, data)
    assert "性别： 女 → 男" in text_of(page)
    client.get("/admin/roster?lang=en")
    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    assert response.headers["Location"].endswith("/admin/roster")
    db.session.expire_all()
    assert (college.own_student.gender, college.own_student.on_campus) == ("M", True)


def test_english_headers_and_values(client, auth, college):
    auth.login(college.admin)
    data = csv_of([["A-001", "Li Hua", "Male", "Master's", "2018", "MSc 1",
                    college.counsellor.username, college.supervisor.username, "+8613800000000",
                    "Hubei", "Wuhan", "Yes", "No"]], headers=EN)
    page, url = preview_page(client, data)
    assert summary(page)["create"] == 1
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    student = db.session.scalars(select(Student).where(Student.student_number == "A-001")).one()
    assert (student.gender, student.programme, student.on_campus, student.phone) == (
        "M", "master", True, "13800000000")


def test_title_rows_above_the_header_are_skipped(client, auth, college):
    auth.login(college.admin)
    data = ("经济与管理学院2019级学生名单,,,,,,\n\n" + ",".join(ZH[:7]) + "\n"
            + ",".join(new_row("2019000001", "王同学", "李老师")[:7]) + "\n").encode()
    page, _url = preview_page(client, data)
    assert summary(page)["create"] == 1
    assert "第 4 行" not in text_of(page)


def test_confirm_refuses_a_preview_the_roster_no_longer_matches(client, auth, college):
    auth.login(college.admin)
    data = csv_of([row_of(college.own_student, **{"班级": "2017级金融学2班"})])
    page, url = preview_page(client, data)
    fingerprint = fingerprint_of(page)
    # someone moves the student meanwhile
    college.own_student.province = college.own_student.city = "上海"
    db.session.commit()
    response = client.post(url, data={"fingerprint": fingerprint})
    assert response.headers["Location"] == url
    page = client.get(url)
    assert "预览之后名册已有变化。请查看新的预览并再次确认。" in text_of(page)
    db.session.expire_all()
    assert college.own_student.class_name != "2017级金融学2班"
    assert "所在城市： 上海 → 北京" in text_of(page)
    # the new preview is confirmed: imported
    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    assert response.headers["Location"].endswith("/admin/roster")
    db.session.expire_all()
    assert college.own_student.class_name == "2017级金融学2班"


def test_a_second_confirm_writes_nothing_more(client, auth, college):
    auth.login(college.admin)
    page, url = preview_page(client, csv_of([new_row("0990001", "新同学", "李老师")]))
    fingerprint = fingerprint_of(page)
    client.post(url, data={"fingerprint": fingerprint})
    response = client.post(url, data={"fingerprint": fingerprint})
    assert response.headers["Location"].endswith("/admin/roster/import")
    assert "此次上传已过期或已导入" in text_of(client.get("/admin/roster/import"))
    assert db.session.scalar(select(func.count(Student.id))) == 4
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "roster.import")) == 1


def test_the_whole_flow_with_csrf_protection_on(college, make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()

    def token_in(response):
        return response.get_data(as_text=True).split(
            'name="csrf_token" type="hidden" value="')[1].split('"')[0]

    client.post("/login", data={"username": college.admin.username,
                                "password": factories.PASSWORD,
                                "csrf_token": token_in(client.get("/login"))})
    data = csv_of([new_row("0990001", "新同学", "李老师")])
    response = client.post("/admin/roster/import", data={"file": (io.BytesIO(data), "r.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400  # no token, no upload
    response = client.post(
        "/admin/roster/import", content_type="multipart/form-data",
        data={"file": (io.BytesIO(data), "r.csv"),
              "csrf_token": token_in(client.get("/admin/roster/import"))})
    url = response.headers["Location"]
    page = client.get(url)
    assert client.post(url, data={"fingerprint": fingerprint_of(page)}).status_code == 400
    response = client.post(url, data={"fingerprint": fingerprint_of(page),
                                      "csrf_token": token_in(page)})
    assert response.headers["Location"].endswith("/admin/roster")
    assert db.session.scalar(select(func.count(Student.id))) == 4


def test_another_admins_upload_is_not_found(client, auth, college):
    other_admin = factories.AdminFactory()
    db.session.commit()
    auth.login(college.admin)
    _page, url = preview_page(client, csv_of([new_row("0990001", "新同学", "李老师")]))
    auth.logout()
    auth.login(other_admin)
    response = client.get(url)
    assert response.headers["Location"].endswith("/admin/roster/import")
    assert client.post(url, data={"fingerprint": "x"}).status_code == 302
    assert db.session.scalar(select(func.count(Student.id))) == 3


# Bad input: a clear message, nothing written


@pytest.mark.parametrize("filename, data, message", [
    ("roster.csv", b"", "文件是空的。"),
    ("roster.csv", "姓名,班级\n王,1班\n".encode(), "缺少以下列：学号 / Student number"),
    ("roster.csv", "编号,名字\n01,王\n".encode(), "没有一个列标题是 CareTrack 认识的。"),
    ("roster.csv", csv_of([], headers=ZH), "文件只有列标题，没有学生。"),
    ("roster.csv", csv_of([["1"] * 14], headers=ZH + ["Student number"]),
     "列 Student number 出现了两次"),
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "无法读取此文件，它不是电子表格"),
    ("roster.xlsx", b"PK\x03\x04broken", "无法读取此文件，它不是电子表格"),
    ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧版 Excel 文件（.xls）"),
    ("roster.csv", "学号,姓名\n".encode() + b"\x81\x30\x81,x\n", "既不是 UTF-8 编码也不是 GBK 编码"),
])
def test_files_that_cannot_be_imported(client, auth, college, filename, data,
                                       message):
    before = snapshot()
    auth.login(college.admin)
    response = upload(client, data, filename)
    # a file that cannot be read is a 400; one read but not a usable roster, a 422
    unreadable = ("文件是空的", "无法读取", "旧版 Excel", "既不是 UTF-8")
    assert response.status_code == (400 if message.startswith(unreadable) else 422)
    page = text_of(response)
    assert message in page
    assert snapshot() == before
    assert kept_files() == []


def test_missing_columns_list_the_expected_ones(client, auth, college):
    auth.login(college.admin)
    page = text_of(upload(client, csv_of([["王", "1班"]], headers=["姓名", "班级"])))
    assert "缺少以下列：学号 / Student number" in page
    assert "应有的列：" in page
    assert all(f"{zh} / {en}" in page for zh, en in zip(ZH, EN, strict=True))
    english = text_of(client.post(
        "/admin/roster/import?lang=en",
        data={"file": (io.BytesIO(csv_of([["王"]], headers=["姓名"])), "r.csv")},
        content_type="multipart/form-data"))
    assert "Missing columns: 学号 / Student number" in english and "Expected columns:" in english


def test_a_new_student_needs_the_required_columns_the_file_lacks(client, auth, college):
    auth.login(college.admin)
    page, _url = preview_page(client, csv_of([["0990001", "王"]], headers=["学号", "姓名"]))
    text = text_of(page)
    assert summary(page) == {"create": 0, "update": 0, "unchanged": 0, "errors": 5}
    assert "文件没有 性别 / Gender 列，新学生需要此列。" in text
    assert "文件没有 辅导员 / Counsellor 列，新学生需要此列。" in text


def test_no_file_chosen(client, auth, college):
    auth.login(college.admin)
    page = text_of(client.post("/admin/roster/import", data={},
                               content_type="multipart/form-data"))
    assert "请选择要导入的文件。" in page


def test_a_file_over_the_size_limit_gets_the_413_page(client, auth, college, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    before = snapshot()
    auth.login(college.admin)
    rows = [new_row(f"09{n:08d}", "新同学", "李老师") for n in range(100)]
    response = upload(client, csv_of(rows))
    assert response.status_code == 413
    assert "文件过大" in text_of(response)
    assert snapshot() == before


def test_a_gbk_csv_is_decoded(client, auth, college):
    auth.login(college.admin)
    data = csv_of([new_row("0990001", "欧阳娜娜", "李老师", **{"班级": "2019级会计学2班"})],
                  encoding="gbk")
    page, url = preview_page(client, data)
    assert "欧阳娜娜" in text_of(page)
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    student = db.session.scalars(select(Student).where(Student.student_number == "0990001")).one()
    assert (student.name, student.class_name) == ("欧阳娜娜", "2019级会计学2班")


def test_duplicate_student_numbers_are_errors_and_nothing_is_written(client, auth, college):
    auth.login(college.admin)
    before = snapshot()
    data = csv_of([new_row("0990001", "甲", "李老师"), new_row("0990002", "乙", "李老师"),
                   new_row("0990001", "丙", "李老师")])
    page, url = preview_page(client, data)
    text = text_of(page)
    assert summary(page)["errors"] == 1
    assert "学号 0990001 已出现在文件第 2 行。" in text and "4 A 学号" in text
    assert "文件有错误，无法导入。" in text
    assert 'name="fingerprint"' not in page.get_data(as_text=True)
    # Even a forged confirmation writes nothing.
    preview = preview_import("roster.csv", data)
    client.post(url, data={"fingerprint": preview.fingerprint})
    assert snapshot() == before


def test_each_bad_cell_names_its_row_and_column(client, auth, college):
    inactive = factories.CounsellorFactory(display_name="周老师", active=False)
    factories.CounsellorFactory(display_name="李老师")  # a second 李老师
    db.session.commit()
    auth.login(college.admin)
    data = csv_of([
        new_row("0990001", "甲", college.counsellor.username, **{"性别": "X"}),
        new_row("0990002", "乙", college.counsellor.username, **{"培养层次": "研究生"}),
        new_row("0990003", "丙", college.counsellor.username, **{"年级": "17"}),
        new_row("0990004", "丁", college.counsellor.username, **{"是否在校": "也许"}),
        new_row("2.01701E+09", "戊", college.counsellor.username),
        new_row("0990006", "己", "钱老师"),
        new_row("0990007", "庚", "李老师"),
        new_row("0990008", "辛", inactive.username),
        new_row("0990009", "", college.counsellor.username, **{"导师": "无名氏"}),
    ])
    before = snapshot()
    page, _url = preview_page(client, data)
    text = text_of(page)
    expected = [
        ("2", "C", "性别", "请填写 男 或 女（M 或 F），而不是 X。"),
        ("3", "D", "培养层次", "未知的培养层次 研究生"),
        ("4", "E", "年级", "请填写入学年份，例如 2017，而不是 17。"),
        ("5", "L", "是否在校", "请填写 是 或 否（yes 或 no），而不是 也许。"),
        ("6", "A", "学号", "2.01701E+09 看起来是被表格软件改写过的数字"),
        ("7", "G", "辅导员", "没有名为 钱老师 的辅导员账号。"),
        ("8", "G", "辅导员", "有多个账号叫 李老师，请改填用户名"),
        ("9", "G", "辅导员", f"账号 {inactive.username} 已停用。"),
        ("10", "B", "姓名", "此单元格为空；姓名 是必填项。"),
        ("10", "H", "导师", "没有名为 无名氏 的导师账号。"),
    ]
    for row, letter, column, message in expected:
        assert f"{row} {letter} {column} {message}" in text, (row, message)
    assert summary(page) == {"create": 0, "update": 0, "unchanged": 0, "errors": 10}
    assert snapshot() == before


def test_formula_cells_are_stored_as_plain_text(client, auth, college):
    auth.login(college.admin)
    data = csv_of([new_row("0990001", '=HYPERLINK("http://evil.example")', "李老师",
                           **{"班级": "=1+1", "手机": "@SUM(A1)"})])
    page, url = preview_page(client, data)
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    student = db.session.scalars(select(Student).where(Student.student_number == "0990001")).one()
    assert (student.name, student.class_name, student.phone) == (
        '=HYPERLINK("http://evil.example")', "=1+1", "@SUM(A1)")
    # Exported, they are neutralised; imported back, nothing changes.
    exported = client.get("/admin/roster/export/csv").get_data()
    assert "'=1+1" in exported.decode("utf-8-sig")
    page, _url = preview_page(client, exported)
    assert summary(page) == {"create": 0, "update": 0, "unchanged": 4, "errors": 0}


# Round trips


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_round_trip_of_a_small_college(client, auth, college, fmt):
    college.own_student.student_number = "0000123"
    college.own_student.phone = "13800000000"
    college.own_student.on_campus = True
    college.graduate.employed = True
    college.other_student.city = ""
    db.session.commit()
    before = snapshot()
    auth.login(college.admin)
    exported = client.get(f"/admin/roster/export/{fmt}").get_data()
    page, url = preview_page(client, exported, f"roster.{fmt}")
    assert summary(page) == {"create": 0, "update": 0, "unchanged": 3, "errors": 0}
    assert "无需导入：名册已与文件一致。" in text_of(page)
    assert snapshot() == before


def test_round_trip_of_the_demo_college(client, auth, demo_college):
    before = snapshot()
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    auth.login(admin, password="caretrack-demo")
    for fmt in ("xlsx", "csv"):
        exported = client.get(f"/admin/roster/export/{fmt}").get_data()
        page, _url = preview_page(client, exported, f"roster.{fmt}")
        assert summary(page) == {"create": 0, "update": 0, "unchanged": 2458, "errors": 0}
    assert snapshot() == before


def _demo_rows(client, auth):
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    assert auth.login(admin, password="caretrack-demo").status_code == 302
    body = client.get("/admin/roster/export/csv").get_data().decode("utf-8-sig")
    lines = body.splitlines()
    assert len(lines) == 2459
    return lines


def test_a_bad_row_1200_of_2458_leaves_the_database_as_it_was(client, auth, demo_college):
    lines = _demo_rows(client, auth)
    # Every student moves to 拉萨 (2,458 updates), and row 1,200 has a bad cohort.
    header = lines[0].split(",")
    province, city, cohort = (header.index(h) for h in ("所在省份", "所在城市", "年级"))
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[province], row[city] = "西藏", "拉萨"
    rows[1198][cohort] = "二〇一七"
    data = "\n".join([lines[0]] + [",".join(r) for r in rows]).encode()
    before = snapshot()
    page, url = preview_page(client, data)
    text = text_of(page)
    assert summary(page) == {"create": 0, "update": 2457, "unchanged": 0, "errors": 1}
    assert "1200 E 年级 请填写入学年份，例如 2017，而不是 二〇一七。" in text
    assert "不在文件中" not in text  # the student of the bad row is in the file all the same
    preview = preview_import("roster.csv", data)
    client.post(url, data={"fingerprint": preview.fingerprint})
    assert snapshot() == before


def test_a_failure_while_writing_row_1200_rolls_everything_back(
    client, auth, runner, demo_college, tmp_path, monkeypatch
):
    lines = _demo_rows(client, auth)
    header = lines[0].split(",")
    province, city = header.index("所在省份"), header.index("所在城市")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[province], row[city] = "西藏", "拉萨"
    for n in range(5):  # five new students as well
        rows.append(new_row(f"09{n:08d}", "新同学", "counsellor1"))
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]), encoding="utf-8")
    before = snapshot()

    real_execute = db.session.execute
    written = []

    def failing_execute(statement, params=None, *args, **kwargs):
        if isinstance(params, list) and params and "b_id" in params[0]:
            if len(written) + len(params) >= 1200:
                raise RuntimeError("disk full while writing row 1,200")
            written.extend(params)
        return real_execute(statement, params, *args, **kwargs)

    monkeypatch.setattr(roster_import, "CHUNK", 500)
    monkeypatch.setattr(db.session, "execute", failing_execute)
    result = runner.invoke(args=["import-students", str(path)])
    monkeypatch.undo()
    assert result.exit_code != 0
    assert len(written) == 1000  # two chunks were written before the failure …
    db.session.rollback()
    assert snapshot() == before  # … and rolled back with the new students


def test_preview_and_apply_issue_a_constant_number_of_queries(app, college):
    def file_of(n):
        rows = [new_row(f"09{i:08d}", f"学生{i}", "李老师") for i in range(n)]
        rows += [row_of(college.own_student, **{"所在城市": "上海"})]
        return csv_of(rows)

    small_file, large_file = file_of(10), file_of(300)
    home = college.counsellor.college_id
    with count_queries() as small:
        preview_import("roster.csv", small_file, college=home)
    with count_queries() as large:
        big = preview_import("roster.csv", large_file, college=home)
    assert small.count == large.count <= 3
    with count_queries() as writing:
        roster_import.apply_import(big, college.admin, now_utc())
    assert writing.count <= 4  # one insert batch, one update batch, the audit event
    db.session.commit()
    assert db.session.scalar(select(func.count(Student.id))) == 303


# The command


def test_command_dry_run_prints_the_report_and_writes_nothing(runner, college, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_of([
        new_row("0990001", "新同学", "李老师"),
        row_of(college.own_student, **{"所在省份": "上海", "所在城市": "上海"}),
        row_of(college.other_student),
    ]))
    before = snapshot()
    result = runner.invoke(args=["import-students", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "正在检查各行" in result.output
    for line in ("将新建：1", "将更新：1", "无变化：1", "错误：0",
                 f"第 3 行，{college.own_student.student_number} 陈小明：所在省份：北京 → 上海；所在城市：北京 → 上海",
                 "试运行：未写入任何内容。"):
        assert line in result.output
    assert snapshot() == before

    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 0, result.output
    assert "名册已导入：新建 1 名学生，更新 1 名，1 名无变化。" in result.output
    db.session.expire_all()
    assert college.own_student.city == "上海"
    assert db.session.scalar(select(func.count(Student.id))) == 4


def test_command_with_errors_writes_nothing(runner, college, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(csv_of([new_row("0990001", "新同学", "李老师"),
                             new_row("0990002", "新同学", "无此人")]))
    before = snapshot()
    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 1
    assert "第 3 行，G 列（辅导员）：没有名为 无此人 的辅导员账号。" in result.output
    assert "未导入任何内容：请改正错误后再运行。" in result.output
    assert snapshot() == before

    path.write_bytes("姓名,班级\n王,1班\n".encode())
    result = runner.invoke(args=["import-students", str(path)])
    assert result.exit_code == 1
    assert "缺少以下列：学号 / Student number" in result.output and "应有的列：" in result.output
    assert "  辅导员 / Counsellor" in result.output


def test_a_student_moved_to_another_counsellor_takes_their_open_rechecks(app, college):
    from caretrack.models import Recheck
    from caretrack.services.rechecks import schedule

    student = college.own_student
    open_one = schedule(student, due_on=date(2099, 1, 5), reason="约好回电", origin="manual",
                        by=college.counsellor)
    done_one = schedule(student, due_on=date(2099, 1, 1), reason="已完成", origin="manual",
                        by=college.counsellor)
    done_one.state = "done"
    db.session.commit()
    data = csv_of([row_of(student, **{"辅导员": college.other_counsellor.username})])
    preview = preview_import("roster.csv", data)
    roster_import.apply_import(preview, college.admin, now_utc())
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Recheck, open_one.id).owner_id == college.other_counsellor.id
    assert db.session.get(Recheck, done_one.id).owner_id == college.counsellor.id  # history stays
