"""The files colleges really have: each hostile fixture of tests/hostile_sheets.py with the
preview it must give (rows matched, created, updated, skipped; errors by row and column)."""

import io
import re

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import Student
from caretrack.services.roster_columns import RosterFileError
from caretrack.services.roster_import import preview_import
from tests import factories
from tests.helpers import text_of
from tests.hostile_sheets import (
    ROSTER_HEADERS,
    csv_bytes,
    entry_date,
    excel_serial,
    roster_row,
    title_rows,
    unicode_text,
    with_cached_values,
    xlsx,
)


def outline(preview) -> dict:
    """What the admin reads in the preview, as data."""
    return {
        "created": [n.values["student_number"] for n in preview.creates],
        "updated": {u.student_number: {c.field: c.new_value for c in u.changes}
                    for u in preview.updates},
        "unchanged": preview.unchanged,
        "matched": [(m.row, m.message) for m in preview.matched],
        "skipped": [(s.row, s.reason) for s in preview.skipped],
        "errors": [(e.row, e.letter, e.message) for e in preview.errors],
    }


def row_of(student: Student, **changes) -> list:
    return roster_row(student.student_number, student.name, student.counsellor.username, **{
        "性别": {"M": "男", "F": "女"}[student.gender], "培养层次": "本科",
        "年级": str(student.cohort), "班级": student.class_name, "手机": student.phone,
        "所在省份": student.province, "所在城市": student.city, **changes})


@pytest.fixture
def student(college):
    """陈小明, an undergraduate whose number starts with zeros (as all the college's do)."""
    s = college.own_student
    s.programme = "undergraduate"
    db.session.commit()
    assert s.student_number.startswith("0") and len(s.student_number) == 10
    return s


def students() -> int:
    return db.session.scalar(select(func.count(Student.id)))


# Student numbers


def test_a_number_that_lost_its_leading_zero_finds_its_student(college, student):
    unpadded = int(student.student_number)  # a number cell: Excel dropped the zeros
    data = xlsx(("名单", [ROSTER_HEADERS, row_of(student, 学号=unpadded, 手机="13700000000")]))
    preview = preview_import("名单.xlsx", data)
    assert outline(preview) == {
        "created": [], "updated": {student.student_number: {"phone": "13700000000"}},
        "unchanged": 0, "skipped": [], "errors": [],
        "matched": [(2, f"已匹配 {unpadded} → {student.student_number}（开头的 0 丢失）。")],
    }


def test_full_width_digits_are_the_same_number(college, student):
    full_width = student.student_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    data = csv_bytes([ROSTER_HEADERS, row_of(student, 学号=full_width)])
    assert outline(preview_import("r.csv", data)) == {
        "created": [], "updated": {}, "unchanged": 1, "matched": [], "skipped": [], "errors": []}


def test_a_number_matching_two_students_is_that_rows_error(college, student):
    # the damage of earlier imports: the same student stored twice, once without the zero
    twin = factories.StudentFactory(student_number=student.student_number.lstrip("0"),
                                    name=student.name, counsellor=college.counsellor)
    factories.StudentFactory.create_batch(3, counsellor=college.counsellor)
    db.session.commit()
    data = csv_bytes([ROSTER_HEADERS, row_of(student, 学号=twin.student_number)])
    preview = preview_import("r.csv", data)
    assert outline(preview)["errors"] == [(2, "A", (
        f"{twin.student_number} 与多名学生匹配（{student.student_number}, {twin.student_number}）："
        "请填写完整学号。"))]
    assert not preview.creates and not preview.updates


def test_a_short_new_number_is_created_with_a_warning_never_silently(college, student):
    data = csv_bytes([ROSTER_HEADERS, roster_row("1850001", "新同学", "李老师")])
    preview = preview_import("r.csv", data)
    assert outline(preview)["created"] == ["1850001"]
    assert [(w.row, w.letter, w.message) for w in preview.warnings] == [(2, "A", (
        "1850001 比其他学号（10 位）短：请检查是否丢失了开头的 0。"))]


# Where the header is, which sheet


def test_a_sheet_whose_header_is_on_row_3(college, student):
    data = xlsx(("Sheet1", title_rows([ROSTER_HEADERS, row_of(student, 手机="13700000000"),
                                       [], roster_row("0990000001", "新同学", "李老师"),
                                       [], []])))
    preview = preview_import("名单.xlsx", data)
    assert preview.header_row == 3
    assert outline(preview) == {
        "created": ["0990000001"], "updated": {student.student_number: {"phone": "13700000000"}},
        "unchanged": 0, "matched": [], "errors": [],
        # the title, and the blank row between students; not the blank rows after the last
        "skipped": [(1, "title"), (5, "blank")],
    }


def test_two_sheets_the_one_with_the_roster_is_read_and_another_can_be_chosen(college, student):
    data = xlsx(("填表说明", [["请按下表填写"], ["学号请设为文本格式"]]),
                ("名单", [ROSTER_HEADERS, row_of(student)]))
    preview = preview_import("名单.xlsx", data)
    assert (preview.sheet, preview.sheet_names) == ("名单", ["填表说明", "名单"])
    assert outline(preview)["unchanged"] == 1
    with pytest.raises(RosterFileError, match="没有一个列标题是 CareTrack 认识的"):
        preview_import("名单.xlsx", data, sheet="填表说明")
    with pytest.raises(RosterFileError, match="没有名为 汇总 的工作表"):
        preview_import("名单.xlsx", data, sheet="汇总")


def test_the_roster_page_lists_the_sheets_and_imports_the_chosen_one(client, auth, college):
    auth.login(college.admin)
    data = xlsx(("旧名单", [ROSTER_HEADERS, roster_row("0990000001", "甲同学", "李老师")]),
                ("新名单", [ROSTER_HEADERS, roster_row("0990000002", "乙同学", "李老师")]))
    response = client.post("/admin/roster/import",
                           data={"file": (io.BytesIO(data), "名单.xlsx")},
                           content_type="multipart/form-data")
    url = response.headers["Location"]
    page = client.get(url)
    assert "此文件有 2 个工作表，预览读取的是“旧名单”" in text_of(page)
    assert "甲同学" in text_of(page) and "乙同学" not in text_of(page)
    page = client.get(url + "?sheet=新名单")
    html = page.get_data(as_text=True)
    assert "乙同学" in text_of(page) and "甲同学" not in text_of(page)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="(\w+)"', html).group(1)
    assert 'name="sheet" type="hidden" value="新名单"' in html
    client.post(url, data={"fingerprint": fingerprint, "sheet": "新名单"})
    assert db.session.scalars(select(Student.name).where(
        Student.student_number.in_(["0990000001", "0990000002"]))).all() == ["乙同学"]


# Encodings and cell types


def test_a_gbk_csv(college, student):
    data = csv_bytes([ROSTER_HEADERS, row_of(student, 所在城市="石家庄", 所在省份="河北"),
                      roster_row("0990000001", "欧阳娜娜", "李老师")], encoding="gbk")
    assert outline(preview_import("名单.csv", data)) == {
        "created": ["0990000001"],
        "updated": {student.student_number: {"province": "河北", "city": "石家庄"}},
        "unchanged": 0, "matched": [], "skipped": [], "errors": []}


def test_a_utf16_unicode_text_export(college, student):
    data = unicode_text([ROSTER_HEADERS, row_of(student),
                         roster_row("0990000001", "欧阳娜娜", "李老师", 姓名="欧阳　娜娜")])
    preview = preview_import("名单.txt", data)
    assert outline(preview)["created"] == ["0990000001"] and preview.unchanged == 1
    # the ideographic space is a space after NFKC
    assert preview.creates[0].values["name"] == "欧阳 娜娜"


def test_excel_dates_and_their_serial_numbers_as_the_cohort(college):
    headers = [h if h != "年级" else "入学日期" for h in ROSTER_HEADERS]
    dated = xlsx(("名单", [headers, roster_row("0990000001", "甲", "李老师", 年级=entry_date(2018)),
                           roster_row("0990000002", "乙", "李老师", 年级="2019/9/1")]))
    serials = csv_bytes([headers, roster_row("0990000003", "丙", "李老师",
                                             年级=excel_serial(2017)),
                         roster_row("0990000004", "丁", "李老师", 年级="99999")])
    assert [n.values["cohort"] for n in preview_import("r.xlsx", dated).creates] == [2018, 2019]
    preview = preview_import("r.csv", serials)
    assert [n.values["cohort"] for n in preview.creates] == [2017]
    assert outline(preview)["errors"] == [(3, "E", "请填写入学年份，例如 2017，而不是 99999。")]


def test_formula_cells_are_read_by_their_cached_value(college):
    link = '=HYPERLINK("https://example.edu.cn/s/0990000001","王小明")'
    data = xlsx(("名单", [ROSTER_HEADERS, roster_row("0990000001", link, "李老师"),
                          roster_row("0990000002", '=HYPERLINK("https://x.cn","李四")', "李老师"),
                          roster_row("0990000003", "=A4&\"\"", "李老师")]))
    # as a spreadsheet program saves it: the first formula with its computed text
    data = with_cached_values(data, {"B2": "王晓明"})
    preview = preview_import("r.xlsx", data)
    assert [n.values["name"] for n in preview.creates] == ["王晓明", "李四"]
    # a formula with no saved value that cannot be read without computing it
    assert outline(preview)["errors"] == [(4, "B", "此单元格为空；姓名 是必填项。")]


# Blank cells, clearing, missing columns, phones


def test_blank_cells_leave_values_and_a_dash_clears_them(college, student):
    student.supervisor = college.supervisor
    student.phone = "13800000000"
    student.province, student.city = "河北", "保定"
    db.session.commit()
    row = row_of(student, 导师="-", 手机="", 所在城市="-", 辅导员="", 性别="", 年级="")
    preview = preview_import("r.csv", csv_bytes([ROSTER_HEADERS, row]))
    assert outline(preview)["updated"] == {
        student.student_number: {"supervisor_id": None, "city": ""}}
    cleared = row_of(student, 班级="-")
    assert outline(preview_import("r.csv", csv_bytes([ROSTER_HEADERS, cleared])))["errors"] == [
        (2, "F", "班级不能清空。")]


def test_a_missing_optional_column_is_left_alone_and_a_new_student_needs_the_required(
        college, student):
    headers = [h for h in ROSTER_HEADERS if h not in ("培养层次", "手机")]
    keep = [i for i, h in enumerate(ROSTER_HEADERS) if h in headers]
    rows = [row_of(student, 所在城市="唐山", 所在省份="河北"),
            roster_row("0990000001", "新同学", "李老师")]
    data = csv_bytes([headers] + [[r[i] for i in keep] for r in rows])
    assert outline(preview_import("r.csv", data)) == {
        "created": [], "updated": {student.student_number: {"province": "河北", "city": "唐山"}},
        "unchanged": 0, "matched": [], "skipped": [],
        "errors": [(3, "", "文件没有 培养层次 / Programme 列，新学生需要此列。")]}


def test_phone_numbers_are_normalised_and_odd_ones_kept_with_a_warning(college):
    phones = ["136 0013 6000", "+86 136-0013-6000", "１３６００１３６０００", "010-6275 1234",
              "12345"]
    rows = [roster_row(f"099000000{i}", f"同学{i}", "李老师", 手机=p)
            for i, p in enumerate(phones)]
    preview = preview_import("r.csv", csv_bytes([ROSTER_HEADERS, *rows]))
    assert [n.values["phone"] for n in preview.creates] == [
        "13600136000", "13600136000", "13600136000", "01062751234", "12345"]
    assert [(w.row, w.letter, w.message) for w in preview.warnings] == [
        (6, "I", "12345 既不是 11 位手机号，也不是带区号的固定电话；按原样保留。")]


# Duplicates


def test_possible_duplicates_within_the_file_and_against_caretrack(college, student):
    twin = factories.StudentFactory(student_number="1850001", name="王芳",
                                    counsellor=college.counsellor, phone="13711112222")
    db.session.commit()
    rows = [roster_row("0990000001", "王芳", "李老师", 学号="01850001", 手机="13500000001"),
            roster_row("0990000002", "张三", "李老师", 手机="13500000009"),
            roster_row("0990000003", "李四", "李老师", 手机="13500000009"),
            roster_row("0990000004", student.name, "李老师", 班级=student.class_name,
                       手机="13500000004")]
    preview = preview_import("r.csv", csv_bytes([ROSTER_HEADERS, *rows]))
    found = [(d.reason, [(m.row, m.student_number, m.name) for m in d.members])
             for d in preview.duplicates]
    assert found == [
        ("number", [(2, "01850001", "王芳"), (None, twin.student_number, "王芳")]),
        ("phone", [(3, "0990000002", "张三"), (4, "0990000003", "李四")]),
        ("class", [(5, "0990000004", student.name), (None, student.student_number, student.name)]),
    ]


def test_the_preview_page_shows_matches_duplicates_and_warnings(client, auth, college, student):
    auth.login(college.admin)
    data = csv_bytes([ROSTER_HEADERS, row_of(student, 学号=student.student_number.lstrip("0")),
                      roster_row("0990000004", student.name, "李老师", 班级=student.class_name,
                                 手机="12345")])
    response = client.post("/admin/roster/import", data={"file": (io.BytesIO(data), "r.csv")},
                           content_type="multipart/form-data")
    page = text_of(client.get(response.headers["Location"]))
    assert f"已匹配 {student.student_number.lstrip('0')} → {student.student_number}" in page
    assert "可能重复的记录" in page and "同班同名" in page
    assert "CareTrack 中已有，文件中没有" in page
    assert "12345 既不是 11 位手机号" in page


# Size


def test_2000_rows_with_3_bad_ones(college):
    rows = [roster_row(f"0990{n:06d}", f"同学{n}", "李老师", 手机=f"135{n:08d}")
            for n in range(2000)]
    rows[500][2] = "未知"          # row 502: gender
    rows[1000][6] = "无此人"       # row 1002: counsellor
    rows[1997][4] = "二〇一九"     # row 1999: cohort
    data = xlsx(("名单", [ROSTER_HEADERS, *rows]))
    preview = preview_import("r.xlsx", data)
    assert len(preview.creates) == 1997 and not preview.updates and not preview.skipped
    assert outline(preview)["errors"] == [
        (502, "C", "请填写 男 或 女（M 或 F），而不是 未知。"),
        (1002, "G", "没有名为 无此人 的辅导员账号。"),
        (1999, "E", "请填写入学年份，例如 2017，而不是 二〇一九。"),
    ]
    assert students() == 3  # nothing written by a preview


# The daily check-in sheet


@pytest.fixture
def counsellor(college, auth, monkeypatch):
    """李老师 signed in on 3 March 2020, 09:00 in Beijing."""
    from tests.test_daily_upload import MORNING

    monkeypatch.setattr("caretrack.reports.pages.now_utc", lambda: MORNING)
    factories.StudentFactory.create_batch(3, counsellor=college.counsellor)
    db.session.commit()
    auth.login(college.counsellor)
    return college


def sheet_upload(client, data: bytes, filename="打卡.xlsx", **form):
    return client.post("/reports/daily/upload",
                       data={"sheet": (io.BytesIO(data), filename), **form},
                       content_type="multipart/form-data")


def problems_of(response) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-problem="([\w-]+)"><td[^>]*>(\d+)</td>',
                      response.get_data(as_text=True))


DAILY = ["学号", "姓名", "省份", "城市", "健康状况"]


def test_a_daily_sheet_with_a_title_row_full_width_and_unpadded_numbers(client, counsellor):
    me, grad = counsellor.own_student, counsellor.graduate
    full_width = grad.student_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    data = xlsx(("3月3日", title_rows([DAILY, [int(me.student_number), me.name, "湖北", "武汉",
                                                "正常"],
                                        [full_width, grad.name, "北京", "北京", "正常"]],
                                       title="会计学1班 3月3日 健康打卡")))
    response = sheet_upload(client, data)
    page = text_of(response)
    assert response.status_code == 200 and problems_of(response) == []
    assert "表中 2 名学生" in page
    assert (f"第 4 行：已匹配 {int(me.student_number)} → {me.student_number}（开头的 0 丢失）。"
            in page)
    assert "跳过了 1 行。" in page and "第 1 行：位于表头上方（标题）" in page


def test_a_daily_number_matching_two_students_is_that_rows_error(client, counsellor):
    me = counsellor.own_student
    factories.StudentFactory(student_number=me.student_number.lstrip("0"), name=me.name,
                             counsellor=counsellor.counsellor)
    db.session.commit()
    data = csv_bytes([DAILY, [me.student_number.lstrip("0"), me.name, "北京", "北京", "正常"],
                      [counsellor.graduate.student_number, counsellor.graduate.name, "北京",
                       "北京", "正常"]])
    response = sheet_upload(client, data, "打卡.csv")
    assert problems_of(response) == [("ambiguous-number", "2")]
    assert "与您所带的多名学生匹配" in text_of(response)
    assert "保存 1 行无误的数据" in text_of(response)


def test_a_daily_workbook_of_two_sheets_reads_the_chosen_one(client, counsellor):
    me = counsellor.own_student
    data = xlsx(("汇总", [["班级", "人数"], ["会计学1班", 40]]),
                ("3月2日", [DAILY, [me.student_number, me.name, "河北", "保定", "正常"]]),
                ("3月3日", [DAILY, [me.student_number, me.name, "湖北", "武汉", "发热"]]))
    first = sheet_upload(client, data)
    assert "此文件有 3 个工作表，预览读取的是“3月2日”" in text_of(first)
    assert '<option value="3月3日">' in first.get_data(as_text=True)
    chosen = sheet_upload(client, data, sheet_name="3月3日")
    assert "预览读取的是“3月3日”" in text_of(chosen) and "发热" in text_of(chosen)
    assert "文件中没有名为“3月4日”的工作表" in text_of(
        sheet_upload(client, data, sheet_name="3月4日"))


def test_the_template_and_the_import_page_say_how_blank_cells_and_dash_work(client, auth,
                                                                             college):
    from openpyxl import load_workbook

    auth.login(college.admin)
    workbook = load_workbook(io.BytesIO(client.get("/admin/roster/template.xlsx").get_data()))
    guide = [c for row in workbook.worksheets[1].iter_rows(values_only=True) for c in row if c]
    sentence = "更新学生时：空单元格或文件中没有的列，都保持已存储的值不变。要清空某个选填项，请在该单元格中填写 -。"
    assert sentence in guide
    assert sentence in text_of(client.get("/admin/roster/import"))
    # the filled template imports from its first sheet, not the column guide
    sheet = workbook.worksheets[0]
    sheet.append(roster_row("0990000001", "新同学", "李老师"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert outline(preview_import("模板.xlsx", buffer.getvalue()))["created"] == ["0990000001"]
