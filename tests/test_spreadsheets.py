"""Reading the college's spreadsheets and writing formula-safe ones."""

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from openpyxl import Workbook, load_workbook

from caretrack.downloads import csv_response, xlsx_response
from caretrack.services.spreadsheets import (
    SpreadsheetError,
    csv_bytes,
    match_headers,
    neutralise,
    read_table,
    unneutralise,
    xlsx_bytes,
)

ALIASES = {
    "student_number": ["学号", "Student number"],
    "name": ["姓名", "Name"],
    "on_campus": ["是否在校", "On campus (yes/no)"],
}


def xlsx_of(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_csv_in_utf8_with_row_numbers_and_blank_lines_skipped():
    data = "\ufeff学号,姓名\n0170001,王小明\n\n0170002,李华\n".encode()
    table = read_table("roster.csv", data)
    assert table.headers == ["学号", "姓名"]
    assert table.rows == [(2, ["0170001", "王小明"]), (4, ["0170002", "李华"])]


def test_csv_in_gbk_is_decoded():
    data = "学号,姓名,班级\n0170001,王小明,2017级会计学1班\n".encode("gbk")
    table = read_table("名单.csv", data)
    assert table.headers == ["学号", "姓名", "班级"]
    assert table.rows == [(2, ["0170001", "王小明", "2017级会计学1班"])]


def test_unicode_text_from_excel_is_read():
    """Excel's "Unicode text" is UTF-16 with tabs."""
    data = "学号\t姓名\r\n0170001\t王小明\r\n".encode("utf-16")
    assert read_table("roster.txt", data).rows == [(2, ["0170001", "王小明"])]


def test_quoted_cells_after_plain_lines_are_read_whole():
    # The csv Sniffer guessed "no doubled quotes" from the first lines and split this cell.
    data = 'a,b\nx,1\n"他说""你好"", 然后走了",2\n'.encode()
    assert read_table("t.csv", data).rows[-1] == (3, ['他说"你好", 然后走了', "2"])


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_other_delimiters(delimiter):
    data = f"学号{delimiter}姓名\n01{delimiter}王\n".encode()
    assert read_table("t.csv", data).rows == [(2, ["01", "王"])]


def test_short_rows_are_padded_to_the_header():
    table = read_table("t.csv", b"a,b,c\n1\n")
    assert table.rows == [(2, ["1", "", ""])]


def test_xlsx_cells_are_text_with_leading_zeros_kept():
    data = xlsx_of([
        ["学号", "年级", "手机", "日期"],
        ["0170001", 2017, 13800000000, datetime(2020, 2, 3)],
        ["0170002", 2018.0, None, date(2020, 2, 4)],
    ])
    table = read_table("roster.xlsx", data)
    assert table.rows == [
        (2, ["0170001", "2017", "13800000000", "2020-02-03"]),
        (3, ["0170002", "2018", "", "2020-02-04"]),
    ]


def test_xlsx_with_a_wrong_dimension_is_read_to_the_end():
    """Some programs declare the sheet as "A1"; every row must still be read."""
    data = xlsx_of([["学号"], ["1"], ["2"], ["3"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1"', body)
                assert b'<dimension ref="A1"' in body
            target.writestr(item, body)
    table = read_table("roster.xlsx", buffer.getvalue())
    assert [row for _n, row in table.rows] == [["1"], ["2"], ["3"]]


@pytest.mark.parametrize("data", [b"", b"  \n\r\n", b",,,\n,,\n"])
def test_empty_files(data):
    with pytest.raises(SpreadsheetError) as caught:
        read_table("roster.csv", data)
    assert caught.value.code == "empty"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("filename, data", [
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
    ("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ("roster.xlsx", b"this is not a zip file at all"),
    ("letter.docx", _docx()),
    ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100),
])
def test_files_that_are_not_spreadsheets(filename, data):
    with pytest.raises(SpreadsheetError) as caught:
        read_table(filename, data)
    assert caught.value.code == "not-a-spreadsheet"


def test_old_binary_excel_is_named():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    with pytest.raises(SpreadsheetError) as caught:
        read_table("roster.xls", data)
    assert caught.value.code == "old-excel"


def test_csv_neither_utf8_nor_gbk():
    with pytest.raises(SpreadsheetError) as caught:
        read_table("roster.csv", "学号\n".encode() + b"\x81\x30\x81")
    assert caught.value.code == "encoding"


def test_headers_match_in_chinese_and_english_whatever_the_spacing():
    found = match_headers(["Student Number", " 姓 名 ", "on_campus (yes/no)"], ALIASES,
                          ["student_number", "name"])
    assert found == {"student_number": 0, "name": 1, "on_campus": 2}
    assert match_headers(["*学号", "姓名（全名）"], {**ALIASES, "name": ["姓名(全名)"]},
                         ["student_number"]) == {"student_number": 0, "name": 1}


def test_missing_and_duplicate_headers():
    with pytest.raises(SpreadsheetError) as caught:
        match_headers(["学号", "班级"], ALIASES, ["student_number", "name"])
    assert caught.value.code == "missing-columns" and caught.value.detail == "name"
    with pytest.raises(SpreadsheetError) as caught:
        match_headers(["学号", "Student number"], ALIASES, ["student_number"])
    assert caught.value.code == "duplicate-columns" and caught.value.detail == "Student number"


@pytest.mark.parametrize("text", [
    "=1+1", "+86 138", "-5+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "  =HYPERLINK(\"x\")",
    "\n=cmd",
])
def test_formula_like_text_is_neutralised_and_read_back(text):
    assert neutralise(text) == "'" + text
    assert unneutralise(neutralise(text)) == text


@pytest.mark.parametrize("value", ["王小明", "2017级会计学1班", "0170001", "it's", 5, -3, None])
def test_other_values_are_left_alone(value):
    assert neutralise(value) == value
    if isinstance(value, str):
        assert unneutralise(value) == value


def test_csv_bytes_neutralise_text_not_numbers():
    body = csv_bytes(["姓名", "=header"], [["=1+1", -5], ["王小明", 3.5], [True, None]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["姓名", "'=header"], ["'=1+1", "-5"], ["王小明", "3.5"], ["True", ""]]


def _sheet_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_stores_formula_like_text_as_text():
    data = xlsx_bytes([("名单", ["姓名", "备注"], [["=1+1", "@SUM(A1)"], ["-2+3", 7]])])
    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[2]] == ["=1+1", "@SUM(A1)"]
    assert [c.data_type for c in sheet[2]] == ["s", "s"]
    assert [c.value for c in sheet[3]] == ["-2+3", 7]


def test_xlsx_drops_control_characters_and_keeps_the_wall_clock():
    shanghai = timezone(timedelta(hours=8))
    data = xlsx_bytes([("a:b/c?", ["时间", "文本"],
                        [[datetime(2020, 2, 3, 9, 30, tzinfo=shanghai), "王\x01小\x0b明"]])])
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["a b c"]
    assert [c.value for c in workbook.active[2]] == [datetime(2020, 2, 3, 9, 30), "王小明"]


def test_xlsx_with_an_aware_utc_datetime_does_not_crash():
    assert xlsx_bytes([("s", ["t"], [[datetime(2020, 2, 3, tzinfo=UTC)]])])


def test_responses_are_downloads_with_a_chinese_name(app):
    response = csv_response("学生名单.csv", ["学号"], [["0170001"]])
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%AD%A6%E7%94%9F%E5%90%8D%E5%8D%95.csv" in disposition
    assert response.mimetype == "text/csv"
    response = xlsx_response("名单.xlsx", [("名单", ["学号"], [["0170001"]])])
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert read_table("名单.xlsx", response.get_data()).rows == [(2, ["0170001"])]
