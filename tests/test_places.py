"""One place, however it is written: the normaliser, its codes, and where it applies."""

import io
from datetime import UTC, datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from caretrack import create_app
from caretrack.extensions import db
from caretrack.models import DailyStatus, Student
from caretrack.services.daily import carried, values
from caretrack.services.places import Place, normalise_place
from caretrack.services.roster_import import apply_import, preview_import
from tests.hostile_sheets import ROSTER_HEADERS, csv_bytes, roster_row
from tests.test_migrations import MIGRATIONS

WUHAN = Place("湖北", "武汉", "42", "4201")


@pytest.mark.parametrize("province, city", [
    ("湖北省武汉市", ""), ("湖北 武汉", ""), ("武汉", ""), ("武汉市", ""), ("湖北", "武汉市"),
    ("湖北省", "武汉"), ("Hubei", "武汉"), ("武汉，湖北", ""), ("湖北／武汉", ""),
])
def test_the_ways_of_writing_wuhan_are_one_place(province, city):
    assert normalise_place(province, city) == WUHAN


@pytest.mark.parametrize("province, city, place", [
    ("天津市/和平区", "", Place("天津", "天津", "12", "1201")),
    ("北京", "朝阳区", Place("北京", "北京", "11", "1101")),
    ("湖北", "恩施州", Place("湖北", "恩施土家族苗族自治州", "42", "4228")),
    ("内蒙古", "兴安", Place("内蒙古", "兴安盟", "15", "1522")),
    ("香港", "", Place("香港", "香港", "81", "8101")),
    ("河北", "", Place("河北", "", "13", "")),
    ("河北", "白沟镇", Place("河北", "白沟镇", "13", "")),   # not a prefecture: kept, no code
    ("火星", "", Place("火星", "")),                         # unknown: kept as written
])
def test_municipalities_prefectures_and_unknown_places(province, city, place):
    assert normalise_place(province, city) == place


def test_a_change_compares_codes_not_spellings():
    before = values.StatusValues("北京", "朝阳", False, "normal")
    assert before.diff(values.StatusValues("北京", "朝阳区", False, "normal")) == {}
    assert before.diff(values.StatusValues("北京市", "北京", False, "normal")) == {}
    moved = before.diff(values.StatusValues("湖北", "武汉", False, "normal"))
    assert moved == {"province": ("北京", "湖北"), "city": ("朝阳", "武汉")}


def test_a_form_status_is_stored_by_its_names_and_codes(client, auth, college, monkeypatch):
    monkeypatch.setattr("caretrack.reports.pages.now_utc",
                        lambda: datetime(2020, 3, 3, 1, 0, tzinfo=UTC))
    me = college.own_student
    auth.login(college.counsellor)
    response = client.post("/reports/daily/upload", data={"sheet": (io.BytesIO(csv_bytes([
        ["学号", "所在地", "健康状况"], [me.student_number, "湖北省武汉市", "正常"]])), "a.csv")},
        content_type="multipart/form-data")
    token = response.get_data(as_text=True).split('name="token" type="hidden" value="')[1]
    client.post("/reports/daily/upload/confirm", data={"token": token.split('"')[0]})
    row = db.session.scalars(select(DailyStatus).where(DailyStatus.student_id == me.id)).one()
    assert (row.province, row.city, row.province_code, row.city_code) == ("湖北", "武汉", "42",
                                                                            "4201")
    now = carried.statuses_for([me.id], row.day)[me.id]
    assert now.values.province == "湖北"


def test_a_roster_cell_is_normalised_and_a_respelling_is_no_change(college):
    me = college.own_student
    rows = [roster_row(me.student_number, me.name, "李老师", 所在省份="天津市/和平区",
                       所在城市="", 班级=me.class_name, 年级=str(me.cohort), 手机=me.phone),
            roster_row("0990000001", "新同学", "李老师", 所在省份="武汉", 所在城市="")]
    preview = preview_import("r.csv", csv_bytes([ROSTER_HEADERS, *rows]))
    assert [n.values["province"] + "/" + n.values["city"] for n in preview.creates] == ["湖北/武汉"]
    assert {c.field: c.new_value for c in preview.updates[0].changes} == {
        "province": "天津", "city": "天津"}
    apply_import(preview, None, datetime.now(UTC))
    db.session.commit()
    new = db.session.scalars(select(Student).where(Student.student_number == "0990000001")).one()
    assert (new.province_code, new.city_code) == ("42", "4201")
    db.session.refresh(me)
    assert (me.province, me.city, me.province_code, me.city_code) == ("天津", "天津", "12", "1201")
    again = [roster_row(me.student_number, me.name, "李老师", 所在省份="天津市", 所在城市="和平区",
                        班级=me.class_name, 年级=str(me.cohort), 手机=me.phone)]
    assert preview_import("r.csv", csv_bytes([ROSTER_HEADERS, *again])).unchanged == 1


def test_the_migration_normalises_stored_places(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0008")
        with db.engine.begin() as connection:
            # the users table as revision 0008 has it (the model's has more columns since)
            connection.execute(text(
                "INSERT INTO users (id, username, display_name, role, active, password_hash, "
                "locale, session_token, calendar_token, created_at) VALUES (1, 'c', 'c', "
                "'counsellor', 1, 'x', 'zh_CN', 's', 'k', '2020-01-01 00:00:00')"))
            for n, (province, city) in enumerate([("天津市/和平区", ""), ("湖北省", "武汉市"),
                                                  ("火星", "")], start=1):
                connection.execute(text(
                    "INSERT INTO students (id, student_number, name, gender, programme, cohort, "
                    "class_name, counsellor_id, phone, province, city, on_campus, employed, "
                    "notes, concern_level, flagged_for_review, created_at, updated_at, "
                    "version_id) VALUES (:n, :number, '甲', 'F', 'undergraduate', 2019, '1班', 1, "
                    "'', :province, :city, 0, 0, '', 'normal', 0, '2020-01-01 00:00:00', "
                    "'2020-01-01 00:00:00', 1)"),
                    {"n": n, "number": f"0{n}", "province": province, "city": city})
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT province, city, province_code, city_code FROM students ORDER BY id")).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [("天津", "天津", "12", "1201"), ("湖北", "武汉", "42", "4201"),
                                        ("火星", "", "", "")]
