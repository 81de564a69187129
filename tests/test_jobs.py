"""Jobs without Redis: the same tasks run in the request, with the same guarantees (a failed
run writes nothing, a retry writes once, a refusal is not retried); the job's pages, its
status, its file for a day, and who may see it."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.exceptions import NotFound

from caretrack import jobs
from caretrack.access import get_job_or_404, owns_job
from caretrack.extensions import db
from caretrack.models import (
    AuditEvent,
    Job,
    JobState,
    StagedStudent,
    StoredFile,
    Student,
    now_utc,
)
from caretrack.services.uploads import discard_expired_files, keep_file
from tests.helpers import text_of
from tests.test_roster_import import csv_of, fingerprint_of, new_row, preview_page, summary


@pytest.fixture(autouse=True)
def test_tasks(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "")
    monkeypatch.setitem(app.config, "JOBS_TASK_MODULES", ("tests.job_tasks",))


def audit_details(prefix: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.detail.startswith(prefix))))


def test_without_redis_the_import_runs_in_the_request(client, auth, college):
    auth.login(college.admin)
    page, url = preview_page(client, csv_of([new_row("0990001", "新同学", "李老师")]))
    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    assert response.headers["Location"].endswith("/admin/roster")
    assert "名册已导入：新建 1 名学生" in text_of(client.get("/admin/roster"))
    jobs_run = db.session.scalars(select(Job).order_by(Job.id)).all()
    assert [(job.kind, job.state, job.attempts, job.owner_id) for job in jobs_run] == [
        ("roster.preview", JobState.DONE, 1, college.admin.id),
        ("roster.import", JobState.DONE, 1, college.admin.id)]
    page = text_of(client.get("/jobs/"))
    assert "名册导入" in page and "名册文件检查" not in page  # the import stands for its check


def test_the_file_is_checked_once_and_its_preview_page_shows_what_the_check_kept(
        client, auth, college):
    auth.login(college.admin)
    rows = [new_row(f"0993{i:03d}", f"学生{i}", "李老师") for i in range(250)]
    page, url = preview_page(client, csv_of(rows))
    assert summary(page) == {"create": 250, "update": 0, "unchanged": 0, "errors": 0}
    assert "学生199" in text_of(page) and "学生200" not in text_of(page)
    assert "……还有 50 条。" in text_of(page)
    check = db.session.scalars(select(Job)).one()
    assert (check.kind, check.state, check.stage, check.done, check.total) == (
        "roster.preview", JobState.DONE, "checking", 250, 250)
    kept = check.result["preview"]
    assert (kept["create_count"], len(kept["creates"]), kept["fingerprint"]) == (
        250, 200, fingerprint_of(page))
    # the page again: what the check kept, not a new check; in English, a check in English
    assert fingerprint_of(client.get(url)) == fingerprint_of(page)
    assert db.session.scalar(select(func.count(Job.id))) == 1
    english = client.get(url + "?lang=en")
    assert "To create" in text_of(english) and "… and 50 more." in text_of(english)
    assert fingerprint_of(english) == fingerprint_of(page)
    assert db.session.scalar(select(func.count(Job.id))) == 2
    status = client.get(f"/jobs/{check.id}/status").get_json()
    assert (status["follow"], status["next_url"]) == (True, url)


def test_an_import_failing_half_way_is_retried_in_process_and_writes_once(
        client, auth, college, monkeypatch):
    from caretrack.services import roster_import

    finish = roster_import.finish_import
    runs = []

    def fail_first(*args, **kwargs):  # after every student row is written, before the audit
        runs.append(db.session.scalar(select(func.count(Student.id))))
        if len(runs) == 1:
            raise RuntimeError("the process dies here")
        return finish(*args, **kwargs)

    monkeypatch.setattr(roster_import, "finish_import", fail_first)
    auth.login(college.admin)
    rows = [new_row(f"0992{i:03d}", f"学生{i}", "李老师") for i in range(30)]
    page, url = preview_page(client, csv_of(rows))
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    # the first run wrote the 30 rows and stopped; the second finished it, writing none again
    assert runs == [33, 33]
    job = db.session.scalars(select(Job).where(Job.kind == "roster.import")).one()
    assert (job.state, job.attempts) == (JobState.DONE, 2)
    assert db.session.scalar(select(func.count(Student.id))) == 33
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "roster.import")) == 1


def test_an_import_whose_student_changes_while_it_writes_takes_back_what_it_wrote(
        client, auth, college, monkeypatch):
    from caretrack.services import roster_import

    publish, chunks = roster_import.publish_chunk, []

    def edit_before_the_second_chunk(job_id, now):
        chunks.append(db.session.scalar(select(func.count(Student.id))))
        if len(chunks) == 2:  # someone saves the student the file updates, meanwhile
            db.session.execute(update(Student).where(Student.id == college.own_student.id)
                               .values(version_id=Student.version_id + 1))
        return publish(job_id, now)

    monkeypatch.setattr(roster_import, "CHUNK", 10)
    monkeypatch.setattr(roster_import, "publish_chunk", edit_before_the_second_chunk)
    auth.login(college.admin)
    number = college.own_student.student_number
    rows = [new_row(f"0993{i:03d}", f"学生{i}", "李老师") for i in range(15)]
    rows.append(new_row(number, "陈小明", "李老师", 手机="13911112222"))
    page, url = preview_page(client, csv_of(rows))
    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    assert chunks == [3, 13]  # ten new students were in the roster when the edit came
    job = db.session.scalars(select(Job).where(Job.kind == "roster.import")).one()
    assert (job.state, job.error) == (JobState.FAILED, "roster-changed")
    assert "预览之后名册已有变化" in text_of(client.get(response.headers["Location"]))
    assert db.session.scalar(select(func.count(Student.id))) == 3
    assert db.session.get(Student, college.own_student.id).phone != "13911112222"
    assert db.session.scalar(select(func.count(StagedStudent.id))) == 0
    assert not audit_details("created=")


def test_a_failed_run_writes_nothing_and_its_retry_writes_once(college):
    job = jobs.submit("tests.flaky_write", college.admin)
    assert (job.state, job.attempts, job.result) == (JobState.DONE, 2, {"runs": 2})
    assert audit_details("flaky:") == ["flaky:2"]


def test_a_refusal_fails_at_once_and_says_why(client, auth, college):
    job = jobs.submit("tests.refused", college.admin)
    assert (job.state, job.error, job.attempts) == (JobState.FAILED, "upload-gone", 1)
    auth.login(college.admin)
    assert "此次上传已过期或已导入" in text_of(client.get(f"/jobs/{job.id}"))
    status = client.get(f"/jobs/{job.id}/status").get_json()
    assert (status["state"], status["finished"]) == ("failed", True)


def test_the_same_key_is_one_job_and_a_finished_job_is_left_alone(college):
    first = jobs.submit("tests.flaky_write", college.admin, key="once")
    again = jobs.submit("tests.flaky_write", college.admin, key="once")
    assert again.id == first.id
    jobs.run_job(first.id)
    assert audit_details("flaky:") == ["flaky:2"]
    assert db.session.scalar(select(func.count(Job.id))) == 1


def test_progress_is_seen_from_another_connection_while_the_task_runs(college, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    job = jobs.submit("tests.progress_probe", college.admin)
    assert job.result == {"seen": [4, 10, "checking", "running"]}
    assert (job.done, job.total, job.percent) == (10, 10, 100)


def test_a_job_is_its_owners_alone(client, auth, college):
    job = jobs.submit("tests.flaky_write", college.counsellor)
    assert owns_job(college.counsellor, job) and not owns_job(college.other_counsellor, job)
    assert get_job_or_404(job.id, college.counsellor) == job
    with pytest.raises(NotFound):
        get_job_or_404(job.id, college.other_counsellor)
    auth.login(college.other_counsellor)
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/status").status_code == 404
    assert "我的导入与导出" in text_of(client.get("/jobs/"))
    assert f'/jobs/{job.id}"' not in client.get("/jobs/").get_data(as_text=True)


def test_a_finished_file_downloads_for_a_day_then_is_gone(client, auth, college):
    now = now_utc()
    job = jobs.submit("tests.flaky_write", college.counsellor)
    job.file = keep_file(college.counsellor, "export", "名单.csv", "学号\n001\n".encode(), now,
                         expires_at=now + timedelta(days=1), content_type="text/csv")
    db.session.commit()
    auth.login(college.counsellor)
    landing = text_of(client.get("/jobs/"))
    assert "下载" in landing
    response = client.get(f"/jobs/{job.id}/download")
    assert response.data == "学号\n001\n".encode()
    assert "filename*=UTF-8''%E5%90%8D%E5%8D%95.csv" in response.headers["Content-Disposition"]
    assert discard_expired_files(now + timedelta(days=1, seconds=1)) == 1
    db.session.commit()
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert db.session.get(Job, job.id).file_id is None
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0


def test_a_job_whose_worker_died_for_good_is_failed_by_the_tick(college):
    now = now_utc()
    lost = Job(owner_id=college.admin.id, kind="roster.import", state=JobState.RUNNING,
               heartbeat_at=now - timedelta(hours=2), attempts=3, max_attempts=3)
    alive = Job(owner_id=college.admin.id, kind="roster.import", state=JobState.RUNNING,
                heartbeat_at=now - timedelta(minutes=5))
    db.session.add_all([lost, alive])
    db.session.commit()
    assert jobs.fail_stale_jobs(now) == 1
    db.session.commit()
    assert (lost.state, lost.error, alive.state) == (JobState.FAILED, "worker-lost",
                                                     JobState.RUNNING)


def test_the_jobs_list_shows_the_import_not_its_file_check_and_a_refused_file_as_refused(
        client, auth, college):
    from tests.test_roster_import import upload

    auth.login(college.admin)
    page, url = preview_page(client, csv_of([new_row("0994001", "新同学", "李老师")]))
    client.post(url, data={"fingerprint": fingerprint_of(page)})
    upload(client, "甲,乙\n1,2\n".encode(), "r.csv")
    listed = client.get("/jobs/")
    items = listed_jobs(listed)
    assert len(items) == 2
    assert items[0].startswith("名册文件检查") and "未能导入" in items[0]
    assert "没有一个列标题是 CareTrack 认识的。" in items[0] and "已完成" not in items[0]
    assert items[1].startswith("名册导入") and "已完成" in items[1]
    assert 'text-bg-danger" data-job-state>未能导入' in listed.get_data(as_text=True)


def listed_jobs(response) -> list[str]:
    """The text of each job the list shows."""
    import re

    html = response.get_data(as_text=True)
    items = html.split('<li class="list-group-item">')[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", item.split("</li>")[0]).split())
            for item in items]
