"""Hostile-but-real spreadsheets, made here with openpyxl and csv the way colleges' files come:
from 腾讯文档 and 金数据 exports, Excel's "Unicode text", GBK CSV files, title rows, several
sheets, numbers that lost their leading zero, full-width digits, formulas."""

import csv
import io
import re
import zipfile
from datetime import datetime

from openpyxl import Workbook

ROSTER_HEADERS = ["学号", "姓名", "性别", "培养层次", "年级", "班级", "辅导员", "导师", "手机",
                  "所在省份", "所在城市", "是否在校", "是否在职"]


def roster_row(number, name, counsellor, **changes) -> list:
    row = {"学号": number, "姓名": name, "性别": "女", "培养层次": "本科", "年级": "2019",
           "班级": "2019级会计学1班", "辅导员": counsellor, "导师": "", "手机": "13900000000",
           "所在省份": "河南", "所在城市": "郑州", "是否在校": "否", "是否在职": "否"}
    row.update(changes)
    return [row[h] for h in ROSTER_HEADERS]


def xlsx(*sheets: tuple[str, list[list]]) -> bytes:
    """A workbook of (title, rows) sheets; cells keep their Python types (numbers, dates)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_cached_values(data: bytes, values: dict[str, str]) -> bytes:
    """The workbook as a spreadsheet program saves it: each formula cell named in ``values``
    (e.g. "B2") carries its computed text; openpyxl itself writes formulas without one."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = body.decode()
                for ref, value in values.items():
                    text = re.sub(rf'<c r="{ref}"><f>(.*?)</f><v ?/>(?:</v>)?</c>',
                                  rf'<c r="{ref}" t="str"><f>\1</f><v>{value}</v></c>', text)
                body = text.encode()
            target.writestr(item, body)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding="utf-8", delimiter=",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def unicode_text(rows: list[list]) -> bytes:
    """Excel's "Unicode text" export: UTF-16 with a byte-order mark, tab-separated."""
    return csv_bytes(rows, encoding="utf-16", delimiter="\t")


def title_rows(rows: list[list], title="2020级学生名单（截至3月1日）") -> list[list]:
    """The sheet with a title row and a blank row above its header: the header is row 3."""
    return [[title], [], *rows]


def entry_date(year: int) -> datetime:
    return datetime(year, 9, 1)


def excel_serial(year: int) -> int:
    """1 September of ``year`` as Excel's day number (what a date cell exports as in CSV)."""
    return (datetime(year, 9, 1) - datetime(1899, 12, 30)).days
