"""Notices: the list with each one's coverage, writing one, its coverage page and export."""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice

from caretrack.access import (
    can_correct_notice,
    caseload_filter,
    distributes_checkin_links,
    get_notice_or_404,
    notice_audiences,
    requires,
    sees_stragglers,
    student_filter,
    visible_notices,
    writes_notices,
)
from caretrack.downloads import xlsx_response
from caretrack.extensions import db
from caretrack.labels import choices, label
from caretrack.models import Audience, CareCategory, Notice, Student, now_utc
from caretrack.notices import bp
from caretrack.notices.forms import NoticeForm
from caretrack.services import channels, checkin, notice_mail
from caretrack.services import notices as service
from caretrack.services.checkin.links import existing_link_urls
from caretrack.services.clock import college_tz
from caretrack.services.errors import RuleError
from caretrack.services.notices import percent
from caretrack.templating import category_name
from caretrack.web import client_address, commit_write, show_rule_error, status_of


@bp.before_request
@requires(writes_notices)
def require_notice_writer():
    """Every notice page is for the counsellors and the deputy secretary."""


@bp.get("/")
def index():
    """The notices the user wrote or that reached their students, newest first, each with its
    acknowledged share."""
    page = db.paginate(visible_notices(current_user)
                       .order_by(Notice.published_at.desc(), Notice.id.desc()),
                       per_page=30, error_out=False)
    items = list(page.items)
    totals = service.notice_totals([n.id for n in items], current_user)
    return render_template("notices/index.html", page=page, notices=items, totals=totals,
                           percent=percent,
                           corrected=service.corrections_of([n.id for n in items]))


def _form(corrects: Notice | None = None) -> NoticeForm:
    form = NoticeForm()
    audiences = notice_audiences(current_user)
    form.audience.choices = [SelectChoice(a, label("audience", a)) for a in audiences]
    scope = student_filter(current_user)
    form.classes.choices = [SelectChoice(c, c) for c in checkin.classes_of(scope)]
    form.programme.choices = choices("programme")
    form.cohort.choices = [SelectChoice(str(c), str(c)) for c in db.session.scalars(
        select(Student.cohort).where(scope).distinct().order_by(Student.cohort))]
    form.category.choices = [SelectChoice(str(c.id), category_name(c)) for c in db.session.scalars(
        select(CareCategory).where(CareCategory.active).order_by(CareCategory.sort_order))]
    if request.method == "GET":
        form.audience.data = audiences[0] if audiences else None
        form.deadline.data = (now_utc() + timedelta(days=1)).astimezone(college_tz()) \
            .replace(tzinfo=None, second=0, microsecond=0)
        if corrects is not None:
            form.title.data = _("Correction: %(title)s", title=corrects.title)
            form.body.data = corrects.body
            form.must_acknowledge.data = corrects.must_acknowledge
            form.pledge.data = corrects.pledge
    return form


def _publish(form: NoticeForm, corrects: Notice | None):
    if form.validate_on_submit():
        key = form.submission_key.data or None
        try:
            written = commit_write(lambda: service.publish(
                current_user, form.draft(), now=now_utc(), corrects=corrects,
                ip=client_address(), submission_key=key), show_conflicts=True)
        except RuleError as error:
            if error.field == "values":  # the field of the picked audience
                error.field = form.audience.data
            show_rule_error(form, error)
            return _render_form(form, corrects, status_of(error) if error.conflict else 400)
        if written.duplicate:
            return redirect(url_for("notices.index"))
        notice_mail.email_soon(written.result, current_user._get_current_object(), now_utc())
        flash(_("The notice is published."), "success")
        return redirect(url_for("notices.coverage", notice_id=written.result.id))
    return _render_form(form, corrects, 400 if request.method == "POST" else 200)


def _render_form(form, corrects, status=200):
    return render_template("notices/form.html", form=form, corrects=corrects,
                           Audience=Audience), status


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Write a notice to the caseload or some classes (a counsellor), or to the college, a
    programme, a cohort, classes or a care category (the deputy secretary)."""
    return _publish(_form(), None)


@bp.route("/<int:notice_id>/correct", methods=["GET", "POST"])
def correct(notice_id: int):
    """Publish a correction of one's notice: a new notice to the same students."""
    notice = get_notice_or_404(notice_id, current_user)
    if not can_correct_notice(current_user, notice):
        abort(404)
    return _publish(_form(notice), notice)


def _group_message(notice: Notice, url: str) -> str:
    return _("【%(title)s】\n%(body)s\nPlease open %(url)s before %(time)s, read the notice and "
             "tap “I have read it”.", title=notice.title, body=notice.body, url=url,
             time=notice.deadline.astimezone(college_tz()).strftime("%m-%d %H:%M"))


def _reminder(notice: Notice, student: Student, url: str | None) -> str:
    if url:
        return _("%(name)s, please read the notice “%(title)s” and acknowledge it: %(url)s",
                 name=student.name, title=notice.title, url=url)
    return _("%(name)s, please read the notice “%(title)s” on the check-in page and "
             "acknowledge it.", name=student.name, title=notice.title)


@bp.get("/<int:notice_id>")
def coverage(notice_id: int):
    """The notice and its coverage by class: how many it went to, how many acknowledged, who
    has not (for the audience's counsellor, with the phone), the message for each group."""
    notice = get_notice_or_404(notice_id, current_user)
    rows = service.coverage(notice, current_user)
    stragglers = service.stragglers(notice, current_user) if sees_stragglers(current_user) \
        else []
    messages = {}
    if distributes_checkin_links(current_user):
        now = now_utc()
        own = set(checkin.classes_of(caseload_filter(current_user)))
        messages = {name: _group_message(notice, url) for name, url in
                    checkin.class_links(caseload_filter(current_user), now)
                    if name in own and any(r.class_name == name for r in rows)}
        db.session.commit()  # class links are created on first use
    personal, _classes = existing_link_urls([s.id for s in stragglers], [])
    reminders = {s.id: _reminder(notice, s, personal.get(s.id)) for s in stragglers}
    total = sum(r.students for r in rows)
    acked = sum(r.acknowledged for r in rows)
    return render_template(
        "notices/coverage.html", notice=notice, rows=rows, total=total, acked=acked,
        overall=percent(acked, total), stragglers=stragglers, messages=messages,
        reminders=reminders,
        correction=service.corrections_of([notice.id]).get(notice.id),
        post_form=PostToGroupsForm(formdata=None) if messages else None,
    )


class PostToGroupsForm(FlaskForm):
    #: "notice" (the notice with the class link) or "coverage" (who has not acknowledged).
    what = HiddenField()


def _coverage_message(notice: Notice, row, names: list[str]) -> str:
    text = _("“%(title)s”, %(class_name)s: %(acked)d of %(total)d have acknowledged it.",
             title=notice.title, class_name=row.class_name, acked=row.acknowledged,
             total=row.students)
    if names:
        text += "\n" + _("Not yet: %(names)s", names=_(", ").join(names))
    return text


@bp.post("/<int:notice_id>/groups")
def post_to_groups(notice_id: int):
    """Post the notice (with each class's link), or its coverage (naming only the students who
    have not acknowledged), to the groups of the user's classes that have a robot.

    :raise 404: the user hands out no class links (not a counsellor).
    """
    notice = get_notice_or_404(notice_id, current_user)
    form = PostToGroupsForm()
    if not distributes_checkin_links(current_user) or not form.validate_on_submit():
        abort(404)
    now, user = now_utc(), current_user._get_current_object()
    own = set(checkin.classes_of(caseload_filter(user)))
    rows = {r.class_name: r for r in service.coverage(notice, user) if r.class_name in own}
    messages: dict[str, tuple[str, list]] = {}
    if form.what.data == "coverage":
        waiting: dict[str, list[Student]] = {}
        for student in service.stragglers(notice, user):
            waiting.setdefault(student.class_name, []).append(student)
        for name, row in rows.items():
            students = waiting.get(name, [])
            messages[name] = (_coverage_message(notice, row, [s.name for s in students]),
                              students)
        kind = "notice.coverage"
    else:
        for name, url in checkin.class_links(caseload_filter(user), now):
            if name in rows:
                messages[name] = (_group_message(notice, url), [])
        kind = "notice"
    ids = commit_write(lambda: channels.post_to_groups(messages, kind, user, now)).result
    if not ids:
        flash(_("None of these classes has a group robot: set one on the class group robots "
                "page."), "warning")
        return redirect(url_for("notices.coverage", notice_id=notice.id))
    job = channels.send_soon(ids, user, now)
    delivered = (job.result or {}).get("delivered", 0) if job.finished else None
    if delivered is None:
        flash(ngettext("%(num)d message is on its way to the class groups.",
                       "%(num)d messages are on their way to the class groups.", len(ids)),
              "info")
    else:
        flash(_("Posted to %(delivered)d of %(num)d class groups; see the class group robots "
                "page for any that failed.", delivered=delivered, num=len(ids)),
              "success" if delivered == len(ids) else "warning")
    return redirect(url_for("notices.coverage", notice_id=notice.id))


@bp.get("/<int:notice_id>/coverage.xlsx")
def coverage_xlsx(notice_id: int):
    """The notice's coverage as a workbook: by class, and every student the user may see with
    their acknowledgement (names for the audience's counsellor)."""
    notice = get_notice_or_404(notice_id, current_user)
    rows = service.coverage(notice, current_user)
    sheets = [(_("By class"), [_("Class"), _("Students"), _("Acknowledged"), "%"],
               [(r.class_name, r.students, r.acknowledged, r.percent) for r in rows])]
    if sees_stragglers(current_user):
        tz = college_tz()
        sheets.append((_("Students"), [_("Student number"), _("Name"), _("Class"), _("Phone"),
                                       _("Acknowledged")],
                       [(s.student_number, s.name, s.class_name, s.phone,
                         r.acknowledged_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                         if r.acknowledged_at else "")
                        for s, r in service.acknowledgements(notice, current_user)]))
    return xlsx_response(f"{_('Coverage')}-{notice.id}.xlsx", sheets)
