"""The reminders CareTrack sends on its own (run by the schedule as jobs), and which of them
each user gets.

- ``rechecks.digest``: each counsellor's overdue and due-today re-checks, by e-mail;
- ``checkin.reminders``: each counsellor the students who have not checked in yet, by class,
  with the chase list's address – e-mail and in the app;
- ``reports.deadline``: each counsellor whose daily report is not submitted yet – e-mail and
  in the app;
- ``reports.send``: each college's daily report to CARETRACK_REPORT_RECIPIENTS.

Every e-mail is a keyed send (:func:`caretrack.services.mail.send_once`) committed as soon as it
is sent – a sent message cannot be rolled back – so a job run again (a retry, a second tick)
sends nothing twice. A user turns a reminder off per channel (:data:`REMINDERS`,
``User.reminders_off``).
"""

from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from caretrack.access import EVERY_COLLEGE, counsellor_accounts
from caretrack.extensions import db
from caretrack.jobs import JobError, Progress, task
from caretrack.models import (
    DailyReport,
    Job,
    LinkKind,
    MessageLog,
    MessageState,
    Notification,
    ReportState,
    User,
    now_utc,
)
from caretrack.services.clock import college_tz
from caretrack.services.daily import reports
from caretrack.services.daily.chase import classes_to_chase
from caretrack.services.digest import digests, send_digest
from caretrack.services.mail import build_message, send_once
from caretrack.services.notifications import notify

#: The reminders a user may turn off: kind -> (label, the channels it comes by).
REMINDERS = {
    "digest": (_l("Morning digest of my re-checks"), ("email",)),
    "checkin": (_l("Students who have not checked in yet"), ("email", "app")),
    "report": (_l("My daily report is not submitted yet"), ("email", "app")),
}
CHANNEL_LABELS = {"email": _l("E-mail"), "app": _l("In CareTrack")}


def wants(user: User, kind: str, channel: str) -> bool:
    """Whether ``user`` gets the reminder ``kind`` by ``channel``."""
    return f"{kind}:{channel}" not in (user.reminders_off or [])


def set_reminders(user: User, wanted: set[str]) -> None:
    """Keep for ``user`` the reminders ``wanted`` ("kind:channel"), turning the others off."""
    every = {f"{kind}:{channel}" for kind, (_label, channels) in REMINDERS.items()
             for channel in channels}
    user.reminders_off = sorted(every - wanted)
    db.session.flush()


def _counsellors() -> list[User]:
    return list(db.session.scalars(
        select(User).where(counsellor_accounts(EVERY_COLLEGE)).order_by(User.id)))


def _send(key: str, user: User, subject: str, body: str) -> bool:
    """Send one keyed e-mail to ``user``, log it, and commit it at once."""
    from caretrack.services.channels import log_email

    sent = send_once(key, build_message(user.email, subject, body))
    if sent:
        log_email(key.split(":")[0], user.email, body, sent_by=None, counsellor_id=user.id,
                  now=now_utc())
    db.session.commit()
    return sent


def _url(endpoint: str) -> str:
    from flask import url_for

    base = current_app.config["CARETRACK_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True)


@task("rechecks.digest")
def digest_job(job: Job, params: dict, progress: Progress) -> dict:
    """Send each counsellor who wants it their digest of ``params["day"]``."""
    day = date.fromisoformat(params["day"])
    found = digests(day)
    progress.start(len(found), stage="sending")
    sent = skipped = 0
    for digest in found:
        counsellor = digest.counsellor
        if counsellor.email and wants(counsellor, "digest", "email"):
            with force_locale(counsellor.locale or current_app.config["CARETRACK_LOCALE"]):
                sent += send_digest(digest, day)
            db.session.commit()
        else:
            skipped += 1
        progress(1)
    return {"sent": sent, "skipped": skipped}


def checkin_reminders(day: date, now: datetime, progress: Progress | None = None) -> dict:
    """Tell each counsellor with students who have not checked in on ``day`` how many, by
    class: an e-mail and a notification, each as the counsellor chose, once a day."""
    counsellors = _counsellors()
    if progress is not None:
        progress.start(len(counsellors), stage="sending")
    told = mailed = 0
    chase_url = _url("reports.chase")
    for counsellor in counsellors:
        classes = classes_to_chase(counsellor, day)
        if classes:
            told += 1
            if wants(counsellor, "checkin", "app") and not _notified(
                    counsellor, "checkin.missing", now):
                notify(counsellor.id, "checkin.missing", now=now)
                db.session.commit()
            if counsellor.email and wants(counsellor, "checkin", "email"):
                with force_locale(counsellor.locale or current_app.config["CARETRACK_LOCALE"]):
                    missing = sum(count for _name, count in classes)
                    body = "\n".join([
                        _("%(num)d of your students have not checked in yet today:",
                          num=missing),
                        *[f"- {name}: {count}" for name, count in classes],
                        "", _("The chase list: %(url)s", url=chase_url)])
                    mailed += _send(f"checkin-reminder:{day.isoformat()}:user:{counsellor.id}",
                                    counsellor, _("Check-ins missing today"), body)
        if progress is not None:
            progress(1)
    return {"counsellors": told, "mailed": mailed, "posted": post_checkin_reminders(day, now)}


def post_checkin_reminders(day: date, now: datetime) -> int:
    """Post to each class group with a robot the check-in reminder naming only the class's
    students who have not checked in on ``day``; once a class a day (a retry, a second run
    of the schedule post nothing new). Return how many were delivered."""
    from caretrack.access import current_records
    from caretrack.models import ClassGroup, Student
    from caretrack.services import channels
    from caretrack.services.checkin.links import class_token, link_url
    from caretrack.services.checkin.submit import cutoff
    from caretrack.services.daily.carried import students_query

    posted, kind = 0, f"checkin.reminder:{day.isoformat()}"
    for group in db.session.scalars(select(ClassGroup).order_by(ClassGroup.college_id,
                                                                ClassGroup.class_name)):
        already = db.session.scalar(select(MessageLog.id).where(
            MessageLog.kind == kind, MessageLog.college_id == group.college_id,
            MessageLog.recipient == group.class_name).limit(1))
        students = list(db.session.scalars(students_query(
            and_(Student.college_id == group.college_id, Student.class_name == group.class_name,
                 current_records()), day, "missing")))
        if already or not students:
            continue
        with force_locale(current_app.config["CARETRACK_LOCALE"]):
            text = _("Check-in reminder, %(class_name)s: %(names)s – you have not checked in "
                     "today. Please check in before %(time)s: %(url)s",
                     class_name=group.class_name, names=_(", ").join(s.name for s in students),
                     time=cutoff(day).astimezone(college_tz()).strftime("%H:%M"),
                     url=link_url(LinkKind.CLASS,
                                  class_token(group.college_id, group.class_name, now)))
        log = channels.queue_group_message(group.college_id, group.class_name, kind, text,
                                           students=students, sent_by=None,
                                           counsellor_id=group.set_by_id, now=now)
        db.session.commit()
        posted += channels.deliver(log, now) == MessageState.DELIVERED
        db.session.commit()
    return posted


def _notified(user: User, kind: str, now: datetime) -> bool:
    """Whether ``user`` has an unseen notification ``kind`` already (one is enough)."""
    return db.session.scalars(select(Notification.id).where(
        Notification.user_id == user.id, Notification.kind == kind,
        Notification.seen_at.is_(None))).first() is not None


@task("checkin.reminders", max_attempts=2)
def checkin_reminders_job(job: Job, params: dict, progress: Progress) -> dict:
    return checkin_reminders(date.fromisoformat(params["day"]), now_utc(), progress)


@task("reports.deadline", max_attempts=2)
def report_deadline_job(job: Job, params: dict, progress: Progress) -> dict:
    """Remind each counsellor whose report of ``params["day"]`` is neither submitted nor
    approved that the deadline comes."""
    day, now = date.fromisoformat(params["day"]), now_utc()
    waiting = {r.counsellor_id for r in db.session.scalars(
        select(DailyReport).where(DailyReport.day == day))
        if reports.report_status(r) in (ReportState.SUBMITTED, ReportState.APPROVED)}
    counsellors = [c for c in _counsellors() if c.id not in waiting]
    progress.start(len(counsellors), stage="sending")
    deadline = reports.deadline(day)
    url = _url("reports.daily")
    mailed = 0
    for counsellor in counsellors:
        if wants(counsellor, "report", "app") and not _notified(counsellor, "report.due", now):
            notify(counsellor.id, "report.due", now=now)
            db.session.commit()
        if counsellor.email and wants(counsellor, "report", "email"):
            with force_locale(counsellor.locale or current_app.config["CARETRACK_LOCALE"]):
                from caretrack.templating import local_datetime

                body = _("Your daily report of %(day)s is due by %(time)s: %(url)s",
                         day=day.isoformat(), time=local_datetime(deadline, "HH:mm"), url=url)
                mailed += _send(f"report-reminder:{day.isoformat()}:user:{counsellor.id}",
                                counsellor, _("Daily report due"), body)
        progress(1)
    return {"counsellors": len(counsellors), "mailed": mailed}


@task("reports.send", max_attempts=2)
def college_report_job(job: Job, params: dict, progress: Progress) -> dict:
    """Send each college's report of ``params["day"]`` to its recipients, once; a college
    whose reports are not all approved yet is left for the next run.

    :raise JobError: "report-not-ready" when no college's report is ready.
    """
    from caretrack.models import College
    from caretrack.services.daily.college import send_college_report
    from caretrack.services.errors import RuleError

    recipients = current_app.config["REPORT_RECIPIENTS"]
    if not recipients:
        return {"sent": []}
    day = date.fromisoformat(params["day"])
    sent: list[str] = []
    waiting: list[str] = []
    colleges = list(db.session.scalars(select(College).order_by(College.id)))
    with force_locale(current_app.config["CARETRACK_LOCALE"]):
        for college in colleges:
            try:
                sent += send_college_report(day, now_utc(), college, recipients)
            except RuleError:
                waiting.append(college.code)
    if colleges and len(waiting) == len(colleges):
        raise JobError("report-not-ready")
    return {"sent": sent, "waiting": waiting}
