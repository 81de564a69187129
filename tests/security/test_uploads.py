"""Findings 7 and 8: a zip bomb is refused before it is parsed, in under 2 s with bounded
memory; a refused file answers 400 (unreadable) or 422 (read but invalid) with the same clear
page; every refused or abandoned import is audited."""

import io
import os
import time
import tracemalloc
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import AuditEvent, StoredFile, now_utc
from caretrack.services.spreadsheets import SpreadsheetError, UploadLimits, read_table
from tests.helpers import text_of


def zip_bomb() -> bytes:
    """An XLSX whose one sheet is 150 MB of XML (3 million rows), about 0.4 MB zipped."""
    book = io.BytesIO()
    Workbook().save(book)
    with zipfile.ZipFile(book) as template:
        parts = {name: template.read(name) for name in template.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name, body in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                bomb.writestr(name, body)
        with bomb.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats'
                        b'.org/spreadsheetml/2006/main"><sheetData>')
            row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
            chunk = row * 10_000
            for _ in range(150 * 1024 * 1024 // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb():
    return zip_bomb()


def test_the_bomb_is_what_the_issue_describes(bomb):
    assert len(bomb) < 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 150 * 10**6


def test_a_zip_bomb_is_refused_unparsed_in_under_2_seconds(bomb):
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(SpreadsheetError) as refused:
        read_table("roster.xlsx", bomb)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.code == "compression-ratio"
    assert elapsed < 2
    assert peak < 20 * 1024 * 1024


def test_the_size_and_row_caps_are_configurable():
    rows = "\n".join(["学号,姓名"] + [f"{n},x" for n in range(20)]).encode()
    with pytest.raises(SpreadsheetError, match="too-many-rows"):
        read_table("r.csv", rows, UploadLimits(rows=10))
    with pytest.raises(SpreadsheetError, match="unpacked-too-large"):
        book = io.BytesIO()
        Workbook().save(book)
        read_table("r.xlsx", book.getvalue(), UploadLimits(unpacked_bytes=100))
    assert len(read_table("r.csv", rows, UploadLimits(rows=21)).rows) == 20


def refused_events():
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "upload.refused").order_by(AuditEvent.id)).all()


@pytest.mark.parametrize(("name", "data"), [
    ("random.xlsx", os.urandom(4096)),
    ("truncated.xlsx", b"PK\x03\x04" + os.urandom(100)),
    ("nul.csv", b"\x00" * 200),
    ("empty.csv", b""),
])
def test_an_unreadable_roster_is_a_400_with_a_clear_message_and_audited(
        client, auth, college, name, data):
    auth.login(college.admin)
    response = client.post("/admin/roster/import",
                           data={"file": (io.BytesIO(data), name)})
    assert response.status_code == 400
    page = text_of(response)
    assert "文件是空的" in page or "无法读取" in page or "不是" in page, page
    event = refused_events()[-1]
    assert event.user_id == college.admin.id and event.detail.startswith(f"roster:{name}:400")


def test_the_bomb_on_the_roster_import_is_a_quick_400(client, auth, college,
                                                      bomb):
    auth.login(college.admin)
    start = time.perf_counter()
    response = client.post("/admin/roster/import", data={"file": (io.BytesIO(bomb), "b.xlsx")})
    assert time.perf_counter() - start < 2
    assert response.status_code == 400
    assert "压缩比远超正常表格" in text_of(response)
    assert refused_events()[-1].detail.startswith("roster:b.xlsx:400")


def test_a_roster_read_but_invalid_is_a_422(client, auth, college):
    auth.login(college.admin)
    response = client.post("/admin/roster/import",
                           data={"file": (io.BytesIO("甲,乙\n1,2\n".encode()), "r.csv")})
    assert response.status_code == 422
    assert "列" in text_of(response)
    assert refused_events()[-1].detail.startswith("roster:r.csv:422")


def test_the_daily_sheet_upload_refuses_the_bomb_and_bad_rows(client, auth, college, bomb):
    auth.login(college.counsellor)
    response = client.post("/reports/daily/upload", data={"sheet": (io.BytesIO(bomb), "s.xlsx")})
    assert response.status_code == 400
    assert "压缩比远超正常表格" in text_of(response)
    bad = "学号,姓名,健康状况,所在地\n999,某人,良好,北京\n".encode()
    response = client.post("/reports/daily/upload", data={"sheet": (io.BytesIO(bad), "s.csv")})
    assert response.status_code == 422
    assert [e.detail.split(":")[0] for e in refused_events()] == ["sheet", "sheet"]


def test_an_abandoned_import_is_audited_when_it_expires(client, auth, college):
    from caretrack.services.uploads import discard_expired_files, stage_upload

    stage_upload(college.admin, "new.csv", b"y", now_utc())
    token = stage_upload(college.admin, "old.csv", b"x", now_utc() - timedelta(days=2))
    assert discard_expired_files(now_utc()) == 1
    db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "upload.abandoned")).one()
    assert event.user_id == college.admin.id and event.detail == "roster:old.csv"
    assert token and db.session.scalars(select(StoredFile.filename)).all() == ["new.csv"]
