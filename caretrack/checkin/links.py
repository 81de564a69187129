"""The counsellor hands out and rotates their caseload's check-in links (and, covering an
absent colleague, those of the classes they cover; replacing every link at once stays with
each counsellor's own caseload)."""

import segno
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caretrack.access import (
    caseload_filter,
    distributes_checkin_links,
    get_caseload_class_or_404,
    get_recordable_student_or_404,
    requires,
    working_caseload_filter,
)
from caretrack.auth.services import is_safe_next
from caretrack.checkin import bp
from caretrack.checkin.forms import RotateForm
from caretrack.downloads import xlsx_response
from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services import checkin
from caretrack.services.clock import local_today
from caretrack.web import client_address, commit_write

#: Columns of the links workbook (kept in Chinese: the college's sheets are).
XLSX_HEADERS = ["学号", "姓名", "班级", "链接"]


def _class_arg() -> str | None:
    name = request.args.get("class") or None
    return get_caseload_class_or_404(name, current_user) if name else None


def _group_message(class_name: str, url: str, deadline: str) -> str:
    return _("Check-in for %(class_name)s: every day before %(time)s, open %(url)s , enter your "
             "student number and the last four digits of your phone, and tell us where you are "
             "and how you are. Thank you!", class_name=class_name, time=deadline, url=url)


@bp.get("/links/")
@requires(distributes_checkin_links)
def links():
    """The caseload's class links with the message for each class group."""
    now = now_utc()
    deadline = checkin.cutoff(local_today(now))
    classes = checkin.class_links(working_caseload_filter(current_user), now)
    db.session.commit()  # links are created on first use
    time_text = deadline.strftime("%H:%M")
    rows = [(name, url, _group_message(name, url, time_text)) for name, url in classes]
    return render_template("checkin/links.html", rows=rows, form=RotateForm(),
                           deadline=deadline)


@bp.get("/links/students.xlsx")
@requires(distributes_checkin_links)
def links_xlsx():
    """The personal links of the caseload (or one class) as a workbook."""
    class_name = _class_arg()
    rows = checkin.personal_links(working_caseload_filter(current_user), now_utc(), class_name)
    db.session.commit()
    return xlsx_response(
        f"打卡链接-{class_name or current_user.display_name}.xlsx",
        [("打卡链接", XLSX_HEADERS,
          [(s.student_number, s.name, s.class_name, url or "") for s, url in rows])],
    )


@bp.get("/links/qr")
@requires(distributes_checkin_links)
def qr_page():
    """A printable page of the personal links' QR codes (the caseload, or one class)."""
    class_name = _class_arg()
    rows = checkin.personal_links(working_caseload_filter(current_user), now_utc(), class_name)
    db.session.commit()
    cards = [(s, url, segno.make(url, error="m").svg_data_uri(scale=3, border=2) if url else None)
             for s, url in rows]
    return render_template("checkin/qr.html", cards=cards, class_name=class_name,
                           form=RotateForm())


def _back() -> str:
    target = request.form.get("next", "")
    return target if is_safe_next(target) else url_for("checkin.links")


@bp.post("/links/students/<int:student_id>/rotate")
@requires(distributes_checkin_links)
def rotate_student(student_id: int):
    """Replace one student's personal link."""
    student = get_recordable_student_or_404(student_id, current_user)
    if RotateForm().validate_on_submit():
        commit_write(lambda: checkin.rotate_student(student, current_user, now_utc(),
                                                    ip=client_address()))
        flash(_("%(name)s's personal link is replaced; the old one no longer works.",
                name=student.name), "success")
    return redirect(_back())


@bp.post("/links/students/<int:student_id>/revoke")
@requires(distributes_checkin_links)
def revoke_student(student_id: int):
    """Revoke one student's personal link until a new one is issued."""
    student = get_recordable_student_or_404(student_id, current_user)
    if RotateForm().validate_on_submit():
        commit_write(lambda: checkin.revoke_student(student, current_user, now_utc(),
                                                    ip=client_address()))
        flash(_("%(name)s's personal link is revoked: it no longer works, and there is none "
                "until you issue a new one.", name=student.name), "success")
    return redirect(_back())


@bp.post("/links/classes/rotate")
@requires(distributes_checkin_links)
def rotate_class():
    """Replace one class's link; phones that remembered a student must verify again."""
    form = RotateForm()
    class_name = get_caseload_class_or_404(form.class_name.data or "", current_user)
    if form.validate_on_submit():
        commit_write(lambda: checkin.rotate_class(current_user.college_id, class_name,
                                                  current_user, now_utc(),
                                                  ip=client_address()))
        flash(_("The link of %(class_name)s is replaced; the old one no longer works.",
                class_name=class_name), "success")
    return redirect(_back())


@bp.post("/links/rotate")
@requires(distributes_checkin_links)
def rotate_caseload():
    """Replace every personal and class link of the caseload."""
    if RotateForm().validate_on_submit():
        commit_write(lambda: checkin.rotate_caseload(caseload_filter(current_user),
                                                     current_user, now_utc(),
                                                     ip=client_address()))
        flash(_("Every link of your students is replaced; the old ones no longer work."),
              "success")
    return redirect(_back())
