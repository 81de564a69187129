"""A notice e-mailed to its students who have an address on the roster, each with their
personal check-in link (where the notice is read and acknowledged).

The job ("notices.email", submitted when the notice is published) sends one keyed e-mail per
student ("notice-email:<notice>:<student>") and logs it in the message log; each send is
committed as soon as it is made, so a retry (or a second submission) sends nothing twice.
The e-mails are written in the college's language.
"""

from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.jobs import Progress, submit, task
from caretrack.models import Job, Notice, NoticeRecipient, Student, User, now_utc
from caretrack.services.channels import log_email
from caretrack.services.checkin.links import personal_links
from caretrack.services.clock import college_tz
from caretrack.services.mail import build_message, send_once


def email_soon(notice: Notice, by: User, now: datetime) -> Job:
    """Submit the e-mails of ``notice`` to its students (commits); once per notice."""
    return submit("notices.email", by, {"notice_id": notice.id}, now=now,
                  key=f"notices.email:{notice.id}")


def notice_email(notice: Notice, student: Student, url: str | None) -> tuple[str, str]:
    """The subject and text of ``notice``'s e-mail to ``student``, with their link."""
    deadline = notice.deadline.astimezone(college_tz()).strftime("%Y-%m-%d %H:%M")
    if url:
        ask = _("Please open your link %(url)s before %(time)s, read the notice and tap “I "
                "have read it”.", url=url, time=deadline)
    else:
        ask = _("Please read the notice on the check-in page before %(time)s and tap “I have "
                "read it”.", time=deadline)
    body = _("%(name)s,", name=student.name) + f"\n\n{notice.body}\n\n{ask}\n"
    return _("Notice: %(title)s", title=notice.title), body


@task("notices.email", max_attempts=3)
def email_notice_job(job: Job, params: dict, progress: Progress) -> dict:
    """E-mail the notice ``params["notice_id"]`` to each of its students with an address,
    once each."""
    notice = db.session.get(Notice, params.get("notice_id"))
    if notice is None:
        return {"sent": 0, "skipped": 0}
    now = now_utc()
    recipients = Student.id.in_(select(NoticeRecipient.student_id).where(
        NoticeRecipient.notice_id == notice.id))
    pairs = personal_links(recipients & (Student.email != ""), now)
    db.session.commit()  # personal links are created on first use
    progress.start(len(pairs), stage="sending")
    sent = skipped = 0
    with force_locale(current_app.config["CARETRACK_LOCALE"]):
        for student, url in pairs:
            subject, body = notice_email(notice, student, url)
            if send_once(f"notice-email:{notice.id}:{student.id}",
                         build_message(student.email, subject, body)):
                log_email("notice.email", student.email, body, sent_by=job.owner,
                          counsellor_id=student.counsellor_id, now=now_utc(),
                          students=[student])
                sent += 1
            else:
                skipped += 1
            db.session.commit()  # a sent e-mail cannot be taken back
            progress(1)
    return {"sent": sent, "skipped": skipped}
