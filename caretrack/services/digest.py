"""The morning email of each counsellor's overdue and due-today re-checks."""

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caretrack.access import EVERY_COLLEGE, absence_open_on, counsellor_accounts
from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import Absence, AbsenceCover, Recheck, RecheckState, Student, User
from caretrack.services.mail import build_message, send_once
from caretrack.services.rechecks import with_student


@dataclass
class Digest:
    """One counsellor's re-checks for the morning email."""

    counsellor: User
    overdue: list[Recheck]
    due_today: list[Recheck]


def digests(day: date) -> list[Digest]:
    """Return, per active counsellor with any, the open re-checks overdue or due on ``day``
    among their students and among the students they cover that day, in three queries."""
    counsellors = {
        u.id: u
        for u in db.session.scalars(
            select(User).where(counsellor_accounts(EVERY_COLLEGE)).order_by(User.id)
        )
    }
    due = db.session.scalars(
        with_student()
        .where(
            Recheck.state == RecheckState.OPEN,
            Recheck.due_on <= day,
            Student.counsellor_id.in_(list(counsellors) or [0]),
        )
        .order_by(Recheck.due_on, Student.student_number, Recheck.id)
    ).unique()
    covers: dict[int, list[tuple[int, str | None]]] = {}
    for absent_id, cover_id, class_name in db.session.execute(
        select(Absence.counsellor_id, AbsenceCover.covering_id, AbsenceCover.class_name)
        .join(AbsenceCover, AbsenceCover.absence_id == Absence.id)
        .where(absence_open_on(day))
    ):
        if cover_id in counsellors:
            covers.setdefault(absent_id, []).append((cover_id, class_name))
    by_counsellor: dict[int, Digest] = {}
    for recheck in due:
        student = recheck.student
        readers = [student.counsellor_id] + [
            cover_id for cover_id, class_name in covers.get(student.counsellor_id, [])
            if class_name is None or class_name == student.class_name
        ]
        for counsellor_id in readers:
            digest = by_counsellor.setdefault(
                counsellor_id, Digest(counsellors[counsellor_id], [], [])
            )
            (digest.due_today if recheck.due_on == day else digest.overdue).append(recheck)
    return [by_counsellor[i] for i in sorted(by_counsellor)]


def digest_key(counsellor: User, day: date) -> str:
    """Return the key that makes a counsellor's digest for ``day`` go out at most once."""
    return f"recheck-digest:{day.isoformat()}:user:{counsellor.id}"


def compose_digest(digest: Digest, day: date) -> EmailMessage:
    """Write a counsellor's digest email for ``day``, in the counsellor's language."""
    base_url = current_app.config["CARETRACK_BASE_URL"].rstrip("/")
    with force_locale(digest.counsellor.locale or current_app.config["CARETRACK_LOCALE"]):
        locale = str(get_locale())

        def line(recheck: Recheck) -> str:
            student = recheck.student
            parts = [recheck.due_on.isoformat(), f"{student.name} {student.student_number}",
                     label("recheck_origin", recheck.origin)]
            if recheck.category is not None:
                parts.append(recheck.category.name_for(locale))
            if recheck.reason:
                parts.append(recheck.reason.replace("\n", " ")[:120])
            return f"- {' · '.join(parts)}\n  {base_url}/students/{student.id}"

        subject = _(
            "CareTrack %(date)s: %(overdue)d overdue, %(today)d due today",
            date=day.isoformat(), overdue=len(digest.overdue), today=len(digest.due_today),
        )
        lines = [
            _("Hello %(name)s,", name=digest.counsellor.display_name),
            "",
            _("Your re-checks for %(date)s: %(overdue)d overdue, %(today)d due today.",
              date=day.isoformat(), overdue=len(digest.overdue), today=len(digest.due_today)),
        ]
        for title, items in ((_("Overdue"), digest.overdue), (_("Due today"), digest.due_today)):
            if items:
                lines += ["", f"{title} ({len(items)})"] + [line(r) for r in items]
        lines += ["", _("Open CareTrack: %(url)s", url=f"{base_url}/"), ""]
    return build_message(digest.counsellor.email, subject, "\n".join(lines))


def send_digest(digest: Digest, day: date) -> bool:
    """Email a counsellor their digest for ``day`` unless it went out already; return whether
    it was sent now."""
    return send_once(digest_key(digest.counsellor, day), compose_digest(digest, day))
