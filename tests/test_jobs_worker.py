"""Jobs on a real RQ worker: a `flask jobs worker` process on the machine's Redis (database 2,
or 3 for the second pytest-xdist worker; a queue of this test process's own), reading and
writing the test's own database (SQLite's file or PostgreSQL's per-worker database).

The roster file's check and its import, a large bulk action and a large export, through the
pages; a job killed with SIGKILL half-way through its writes: retried, it writes every row
once; killed on its last run, it fails and leaves nothing; the schedule's reminders.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.jobs import submit
from caretrack.models import (
    AuditEvent,
    Job,
    JobState,
    Notification,
    SentMessage,
    StagedStudent,
    StoredFile,
    Student,
    now_utc,
)
from caretrack.services.roster_import import preview_import
from caretrack.services.schedule import tick
from caretrack.services.uploads import stage_upload
from tests.helpers import text_of
from tests.test_roster_import import csv_of, fingerprint_of, new_row, summary, upload

ROOT = Path(__file__).resolve().parents[1]
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
#: Redis databases 2 and 3 are this suite's; database 0 is never touched.
REDIS_DB = 3 if XDIST_WORKER[-1:] in "13579" else 2
#: Longest a test waits for the worker.
WAIT = 90


def _redis(url):
    from redis import Redis

    return Redis.from_url(url)


@pytest.fixture(scope="module")
def job_worker(_app, tmp_path_factory):
    """A `flask jobs worker` process on the test database, for this module's tests."""
    from rq import Queue, Worker

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    queue_name = f"caretrack-tests-{XDIST_WORKER}-{os.getpid()}"
    connection = _redis(url)
    connection.ping()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "CARETRACK_CONFIG": "testing", "REDIS_URL": url,
           "DATABASE_URL": _app.config["SQLALCHEMY_DATABASE_URI"],
           "CARETRACK_JOBS_QUEUE": queue_name, "CARETRACK_JOBS_TASK_MODULES": "tests.job_tasks"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "flask", "--app", "caretrack", "jobs", "worker",
             "--name", queue_name], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    queue = Queue(queue_name, connection=connection)
    deadline = time.monotonic() + WAIT
    while not Worker.all(queue=queue):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the job worker did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    yield SimpleNamespace(url=url, queue=queue_name, process=process, log=log_path)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    queue.delete(delete_jobs=True)


@pytest.fixture
def queued(app, job_worker, monkeypatch):
    """Jobs of this test go to the worker."""
    monkeypatch.setitem(app.config, "REDIS_URL", job_worker.url)
    monkeypatch.setitem(app.config, "JOBS_QUEUE", job_worker.queue)
    monkeypatch.setitem(app.config, "JOBS_TASK_MODULES", ("tests.job_tasks",))
    return job_worker


def wait_until_finished(job_id: int, worker) -> Job:
    deadline = time.monotonic() + WAIT
    while True:
        db.session.rollback()
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.finished:
            return job
        if worker.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"job {job_id} did not finish ({job.state}):\n{worker.log.read_text()}")
        time.sleep(0.1)


def wait_for_file(path: Path, worker) -> str:
    deadline = time.monotonic() + WAIT
    while not path.exists() or not path.read_text():
        if time.monotonic() > deadline:
            pytest.fail(f"the job never reached {path.name}:\n{worker.log.read_text()}")
        time.sleep(0.05)
    return path.read_text()


def student_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Student.id)))


def test_the_roster_import_runs_on_the_worker_and_its_page_follows_it(
        client, auth, college, queued):
    auth.login(college.admin)
    data = csv_of([new_row(f"09900{i:02d}", f"新同学{i}", "李老师") for i in range(3)])
    # the upload: the file is read and checked on the worker, the page follows the check
    response = upload(client, data)
    check_url = response.headers["Location"]
    assert check_url.startswith("/jobs/")
    check = wait_until_finished(int(check_url.rsplit("/", 1)[1]), queued)
    assert (check.kind, check.state, check.stage) == ("roster.preview", JobState.DONE, "checking")
    status = client.get(f"{check_url}/status").get_json()
    assert status["follow"] and status["message"] == (
        "文件已检查：将新建 3 名学生、更新 0 名，0 处错误。")
    url = status["next_url"]
    assert url.startswith("/admin/roster/import/")
    page = client.get(url)  # the preview, from what the check kept
    assert summary(page) == {"create": 3, "update": 0, "unchanged": 0, "errors": 0}
    assert "新同学2" in text_of(page)
    # the confirmation: imported on the worker
    response = client.post(url, data={"fingerprint": fingerprint_of(page)})
    job_url = response.headers["Location"]
    assert job_url.startswith("/jobs/")
    job = wait_until_finished(int(job_url.rsplit("/", 1)[1]), queued)
    assert (job.state, job.attempts, job.result) == (
        JobState.DONE, 1, {"created": 3, "updated": 0, "unchanged": 0})
    status = client.get(f"{job_url}/status").get_json()
    assert (status["state"], status["percent"], status["finished"]) == ("done", 100, True)
    assert status["message"] == "名册已导入：新建 3 名学生，更新 0 名，0 名无变化。"
    assert "名册已导入：新建 3 名学生" in text_of(client.get(job_url))
    assert "名册导入" in text_of(client.get("/jobs/"))
    assert student_count() == 6
    assert client.get(url).headers["Location"].endswith("/admin/roster/import")
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0  # the upload is gone


def test_a_roster_file_refused_on_the_worker_says_why_on_its_page(
        client, auth, college, queued):
    auth.login(college.admin)
    response = upload(client, "甲,乙\n1,2\n".encode(), "r.csv")
    job = wait_until_finished(int(response.headers["Location"].rsplit("/", 1)[1]), queued)
    assert job.state == JobState.DONE and job.result["refused"]["status"] == 422
    page = text_of(client.get(f"/jobs/{job.id}"))
    assert "没有一个列标题是 CareTrack 认识的。" in page
    status = client.get(f"/jobs/{job.id}/status").get_json()
    assert (status["follow"], status["next_url"]) == (False, "/admin/roster/import")
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0  # the upload is gone
    assert db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "upload.refused")).one().startswith("roster:r.csv:422")


def _paused_import(college, tmp_path, rows: int, pause_on: list[int],
                   stage: str = "writing") -> Job:
    data = csv_of([new_row(f"0991{i:04d}", f"学生{i}", "李老师") for i in range(rows)])
    preview = preview_import("roster.csv", data)
    token = stage_upload(college.admin, "roster.csv", data, now_utc())
    db.session.commit()
    return submit("tests.roster_import_paused", college.admin, {
        "token": token, "fingerprint": preview.fingerprint, "sheet": None, "ip": "",
        "signal_dir": str(tmp_path), "pause_on": pause_on, "pause_stage": stage})


def staged_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(StagedStudent.id)))


def staged_once_cleaned_up(worker) -> int:
    """The staged students left once the worker has cleaned up after the job (just after
    the job's commit)."""
    deadline = time.monotonic() + WAIT
    while (left := staged_count()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_an_import_killed_half_way_is_retried_and_writes_every_row_once(
        college, queued, tmp_path):
    job = _paused_import(college, tmp_path, rows=1500, pause_on=[1])
    pid = int(wait_for_file(tmp_path / "halfway-1", queued))
    # 1,000 students staged, none in the roster
    assert (student_count(), staged_count()) == (3, 1000)
    os.kill(pid, signal.SIGKILL)
    job = wait_until_finished(job.id, queued)
    assert (job.state, job.attempts, job.result["created"]) == (JobState.DONE, 2, 1500)
    assert student_count() == 1503
    numbers = db.session.scalars(select(Student.student_number)).all()
    assert len(set(numbers)) == len(numbers) == 1503
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "roster.import")) == 1
    assert staged_once_cleaned_up(queued) == 0


def test_an_import_killed_while_it_writes_the_roster_is_finished_by_its_retry(
        college, queued, tmp_path):
    job = _paused_import(college, tmp_path, rows=2500, pause_on=[1], stage="publishing")
    pid = int(wait_for_file(tmp_path / "halfway-1", queued))
    # the first 1,000 students are in the roster: the pages go on while the rest follow
    assert student_count() == 1003
    os.kill(pid, signal.SIGKILL)
    job = wait_until_finished(job.id, queued)
    assert (job.state, job.attempts, job.result) == (
        JobState.DONE, 2, {"created": 2500, "updated": 0, "unchanged": 0})
    numbers = db.session.scalars(select(Student.student_number)).all()
    assert len(set(numbers)) == len(numbers) == 2503
    assert db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "roster.import")).all() == ["created=2500 updated=0"]
    assert staged_once_cleaned_up(queued) == 0


def test_an_import_killed_while_it_writes_on_its_last_run_takes_its_students_back(
        client, auth, college, queued, tmp_path):
    job = _paused_import(college, tmp_path, rows=2500, pause_on=[1, 2], stage="publishing")
    os.kill(int(wait_for_file(tmp_path / "halfway-1", queued)), signal.SIGKILL)
    pid = int(wait_for_file(tmp_path / "halfway-2", queued))
    assert student_count() == 1003  # the retry goes on from the first run's 1,000
    os.kill(pid, signal.SIGKILL)
    job = wait_until_finished(job.id, queued)
    assert (job.state, job.error, job.attempts) == (JobState.FAILED, "worker-lost", 2)
    assert (student_count(), staged_count()) == (3, 0)
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "roster.import")).all()


def test_an_import_killed_on_its_last_run_fails_and_leaves_nothing(
        client, auth, college, queued, tmp_path):
    job = _paused_import(college, tmp_path, rows=1200, pause_on=[1, 2])
    os.kill(int(wait_for_file(tmp_path / "halfway-1", queued)), signal.SIGKILL)
    os.kill(int(wait_for_file(tmp_path / "halfway-2", queued)), signal.SIGKILL)
    job = wait_until_finished(job.id, queued)
    assert (job.state, job.error, job.attempts) == (JobState.FAILED, "worker-lost", 2)
    assert (student_count(), staged_count()) == (3, 0)
    auth.login(college.admin)
    assert "处理此项工作的进程在完成前停止了" in text_of(client.get(f"/jobs/{job.id}"))


def test_the_schedules_reminders_run_on_the_worker(college, queued):
    from tests.test_schedule import DAY, at

    submitted = tick(at(DAY, 9, 5))
    finished = [wait_until_finished(job.id, queued) for job in submitted]
    assert {job.kind: job.state for job in finished} == {
        "rechecks.digest": "done", "checkin.reminders": "done", "reports.deadline": "done",
        "reports.send": "done", "retention.purge": "done", "daily.tallies": "done"}
    assert f"checkin-reminder:2020-03-03:user:{college.counsellor.id}" in db.session.scalars(
        select(SentMessage.key)).all()
    notified = db.session.scalars(select(Notification.user_id).where(
        Notification.kind == "checkin.missing")).all()
    assert sorted(notified) == sorted([college.counsellor.id, college.other_counsellor.id])
    assert tick(at(DAY, 9, 10)) == []


def test_a_large_bulk_action_runs_on_the_worker_and_its_page_follows_it(
        client, auth, college, queued, monkeypatch):
    from caretrack.services import bulk, transfers
    from tests import factories

    monkeypatch.setattr(bulk, "JOB_THRESHOLD", 2)  # this process's pages; the worker has its own
    students = factories.StudentFactory.create_batch(3, counsellor=college.counsellor)
    db.session.commit()
    ids = [s.id for s in students]
    auth.login(college.counsellor)
    response = client.post("/bulk/", data={
        "source": "students", "next": "/students/", "action": "flag_review", "selected": ids,
        "stage": "confirm", "reason": "请复核", "fingerprint": transfers.fingerprint_of(ids)})
    job_url = response.headers["Location"]
    assert job_url.startswith("/jobs/")
    job = wait_until_finished(int(job_url.rsplit("/", 1)[1]), queued)
    assert (job.kind, job.state, job.attempts, job.result["changed"]) == (
        "students.bulk", JobState.DONE, 1, 3)
    db.session.expire_all()
    assert all(db.session.get(Student, i).flagged_for_review for i in ids)
    status = client.get(f"{job_url}/status").get_json()
    assert (status["percent"], status["finished"], status["next_url"]) == (100, True, "/students/")
    assert status["message"].endswith("：3 名学生中 3 名已变更。")


def test_a_large_export_runs_on_the_worker_and_its_file_waits_on_its_page(
        client, auth, college, queued, monkeypatch):
    from caretrack.services import export_jobs
    from tests.test_exports import column, rows_of

    monkeypatch.setattr(export_jobs, "JOB_THRESHOLD", 2)  # this process's pages
    auth.login(college.deputy)
    response = client.get("/students/export/xlsx")
    job_url = response.headers["Location"]
    job = wait_until_finished(int(job_url.rsplit("/", 1)[1]), queued)
    assert (job.kind, job.state, job.result["rows"]) == ("exports.list", JobState.DONE, 3)
    status = client.get(f"{job_url}/status").get_json()
    assert status["download_url"] == f"{job_url}/download"
    rows = rows_of(client.get(status["download_url"]))
    assert sorted(column(rows, "姓名")) == sorted(["陈小明", "刘小红", "赵研究"])
    assert db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "export")).one() == "list=caseload format=xlsx rows=3"
