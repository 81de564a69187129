"""Chinese by default, English on request, and a complete zh_CN catalog."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from caretrack.extensions import db
from tests.helpers import text_of

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "caretrack" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def test_pages_are_chinese_by_default_and_english_on_request(client, auth, college):
    auth.login(college.counsellor)
    zh = text_of(client.get("/students/"))
    assert "学生" in zh and "姓名或学号" in zh and "退出登录" in zh
    en = text_of(client.get("/students/?lang=en"))
    assert "Name or student number" in en and "Sign out" in en
    assert "姓名或学号" not in en
    # The choice sticks for the session.
    assert "Name or student number" in text_of(client.get("/students/"))


def test_user_preference_sets_the_language(client, auth, college):
    college.counsellor.locale = "en"
    db.session.commit()
    auth.login(college.counsellor)
    assert "Sign out" in text_of(client.get("/students/"))


def test_html_lang_attribute_follows_the_language(client):
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/login?lang=en").get_data(as_text=True)


def test_every_message_in_the_code_is_translated(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "ngettext:1,2", "--no-location",
         "--ignore-dirs", ".* __pycache__",
         "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh)
    translated = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            translated.add(message.id if isinstance(message.id, str) else message.id[0])
    missing = sorted(wanted - translated)
    assert not missing, f"untranslated in zh_CN: {missing}"


def test_date_controls_are_echoed_in_year_month_day_order_in_chinese_only(client, auth, college):
    auth.login(college.counsellor)
    chinese = client.get("/rechecks/").get_data(as_text=True)
    assert '<body data-date-echo="年-月-日">' in chinese
    english = client.get("/rechecks/?lang=en").get_data(as_text=True)
    assert "<body>" in english and "data-date-echo" not in english
