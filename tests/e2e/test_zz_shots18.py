from datetime import timedelta

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, serve_demo_copy
from tests.e2e.steps import today, user
from caretrack.services import absences, entries
from caretrack.models import Student
from sqlalchemy import select


@pytest.fixture(scope="module")
def live_server(demo_template):
    with serve_demo_copy(demo_template, "e2e_shots18") as server:
        yield server


@pytest.fixture(scope="module")
def base_url(live_server):
    return f"http://127.0.0.1:{live_server.server_port}"


def test_shots(browser, base_url, app_db):
    day = today()
    c1, c2, c3 = (user(app_db, f"counsellor{i}") for i in (1, 2, 3))
    classes = absences.caseload_classes(c1)
    a = absences.record_absence(c1, c1, starts_on=day - timedelta(days=2), ends_on=day + timedelta(days=11),
                                reason="居家隔离14天", covers={None: c2})
    half = len(classes) // 2
    b = absences.record_absence(c3, c3, starts_on=day - timedelta(days=9), ends_on=day,
                            reason="发热，居家观察", covers={**{k: c2 for k in absences.caseload_classes(c3)[:1]},
                                                       **{k: user(app_db, "counsellor4") for k in absences.caseload_classes(c3)[1:]}},
                            now=__import__("datetime").datetime.now(__import__("datetime").UTC) - timedelta(days=10))
    app_db.session.commit()
    s = app_db.session.scalars(select(Student).where(Student.counsellor_id == c3.id, Student.class_name == absences.caseload_classes(c3)[0])).first()
    entries.record_follow_up(s, c2, channel="phone", reached=True, health="normal", body="代为电话回访，情绪稳定。")
    b.ends_on = day - timedelta(days=1)
    app_db.session.commit()
    shots = [("c2", "/", "landing"), ("c2", "/students/", "caseload"), ("c2", f"/reports/daily/?caseload={c1.id}", "daily"),
             ("c1", f"/absences/{a.id}", "absence"), ("c1", "/absences/new", "new"), ("c3", "/", "back"),
             ("c2", f"/students/{s.id}", "student")]
    for lang in ("zh", "en"):
        for w, h, kind in ((1280, 900, "desktop"), (390, 844, "phone")):
            ctx = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
            p = ctx.new_page()
            current = None
            for who, url, name in shots:
                if who != current:
                    current = who
                    ctx.clear_cookies()
                    p.goto(f"{base_url}/login")
                    p.fill("#username", {"c1": "counsellor1", "c2": "counsellor2", "c3": "counsellor3"}[who])
                    p.fill("#password", DEMO_PASSWORD)
                    p.click("button[type=submit]")
                    p.wait_for_load_state()
                p.goto(f"{base_url}{url}{'&' if '?' in url else '?'}lang={'en' if lang == 'en' else 'zh_CN'}")
                p.screenshot(path=f"/tmp/shots18/{name}-{lang}-{kind}.png", full_page=kind == "desktop")
            ctx.close()
