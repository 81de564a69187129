"""The student's check-in page, reached by a personal link or a class link."""

from datetime import timedelta

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import exists, select

from caretrack.access import (
    get_class_link_or_404,
    get_student_by_checkin_link_or_404,
    get_student_notice_or_404,
    get_student_return_request_or_404,
)
from caretrack.checkin import bp
from caretrack.checkin.choices import city_options, province_options
from caretrack.checkin.forms import AcknowledgeForm, CheckinForm, IdentityForm, ReturnRequestForm
from caretrack.extensions import db, limiter
from caretrack.messages import message
from caretrack.models import CheckIn, LinkKind, Student, now_utc
from caretrack.security import address_key, config_limit, failed
from caretrack.services import checkin, notices, return_requests
from caretrack.services.clock import local_today
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error, status_of

#: On top of the database's count of wrong identities per student and per link: at most
#: CHECKIN_FAILURE_LIMIT wrong identities or unknown links per address.
throttled = limiter.limit(
    config_limit("CHECKIN_FAILURE_LIMIT"), key_func=address_key, scope="checkin",
    deduct_when=lambda response: failed() or response.status_code == 404,
)

#: How long a phone remembers the student (until the class link is rotated, at most this).
REMEMBER = timedelta(days=180)


@bp.route("/p/<token>", methods=["GET", "POST"])
@throttled
def personal(token: str):
    """Check in by one's personal link."""
    return _checkin_page(get_student_by_checkin_link_or_404(token), LinkKind.PERSONAL)


@bp.route("/c/<token>", methods=["GET", "POST"])
@throttled
def class_link(token: str):
    """Check in by the class's link: the phone remembers the student, or they say who they
    are first."""
    link = get_class_link_or_404(token)
    student = checkin.device_student(link, request.cookies.get(checkin.DEVICE_COOKIE))
    if student is None:
        if request.method == "POST":
            abort(404)
        return render_template("checkin/identify.html", form=IdentityForm(), token=token)
    return _checkin_page(student, LinkKind.CLASS)


@bp.post("/c/<token>/verify")
@throttled
def verify(token: str):
    """Check the student number and phone digits; remember the student on this phone."""
    link = get_class_link_or_404(token)
    form = IdentityForm()
    if form.validate_on_submit():
        found = commit_write(lambda: checkin.verify_identity(
            link, form.student_number.data, form.phone_digits.data, now_utc(),
            ip=client_address())).result
        if found.student is not None:
            response = redirect(url_for("checkin.class_link", token=token))
            response.set_cookie(
                checkin.DEVICE_COOKIE, checkin.device_token(found.student, link),
                max_age=int(REMEMBER.total_seconds()), path=f"/checkin/c/{token}",
                httponly=True, samesite="Lax", secure=request.is_secure,
            )
            return response
        g.failed_try = True
        form.form_errors.append(message(found.code))
    return render_template("checkin/identify.html", form=form, token=token)


@bp.post("/c/<token>/forget")
def forget(token: str):
    """Make this phone forget the student (a shared phone, another student)."""
    get_class_link_or_404(token)
    response = redirect(url_for("checkin.class_link", token=token))
    response.delete_cookie(checkin.DEVICE_COOKIE, path=f"/checkin/c/{token}")
    return response


def _student_of(kind: str, token: str) -> tuple[Student, str]:
    """The student of a personal link, or the one this phone remembers on a class link.

    :raise 404: for an unknown link, and on a class link a phone that remembers no one.
    """
    if kind == "p":
        return get_student_by_checkin_link_or_404(token), LinkKind.PERSONAL
    student = checkin.device_student(get_class_link_or_404(token),
                                     request.cookies.get(checkin.DEVICE_COOKIE))
    if student is None:
        abort(404)
    return student, LinkKind.CLASS


def _page_url(kind: str, token: str) -> str:
    endpoint = "checkin.personal" if kind == "p" else "checkin.class_link"
    return url_for(endpoint, token=token)


@bp.post("/<any(p, c):kind>/<token>/notices/<int:notice_id>/ack")
@throttled
def acknowledge(kind: str, token: str, notice_id: int):
    """The student acknowledges one of their notices ("I have read it", or the pledge)."""
    student, via = _student_of(kind, token)
    recipient = get_student_notice_or_404(student, notice_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            commit_write(lambda: notices.acknowledge(recipient, pledged=bool(form.pledge.data),
                                                     now=now_utc(), ip=client_address()))
        except RuleError as error:
            return _checkin_page(student, via, ack_errors={notice_id: message(error.code)})
    return redirect(_page_url(kind, token) + f"#notice-{notice_id}")


@bp.post("/<any(p, c):kind>/<token>/return")
@throttled
def ask_return(kind: str, token: str):
    """The student asks to return to campus early."""
    student, via = _student_of(kind, token)
    form = ReturnRequestForm(prefix="return")
    status = 400
    if form.validate_on_submit():
        try:
            commit_write(lambda: return_requests.ask(student, form.values(), now=now_utc(),
                                                     ip=client_address()),
                         show_conflicts=True)
        except RuleError as error:
            show_rule_error(form, error)
            status = status_of(error) if error.conflict else 400
        else:
            return redirect(_page_url(kind, token) + "#return")
    page, _status = _checkin_page(student, via, return_form=form)
    return page, status


@bp.post("/<any(p, c):kind>/<token>/return/<int:request_id>/withdraw")
@throttled
def withdraw_return(kind: str, token: str, request_id: int):
    """The student withdraws their request while it waits for a decision."""
    student, _via = _student_of(kind, token)
    found = get_student_return_request_or_404(student, request_id)
    if AcknowledgeForm().validate_on_submit():
        commit_write(lambda: return_requests.withdraw(found, now=now_utc(), ip=client_address()))
    return redirect(_page_url(kind, token) + "#return")


def _checkin_page(student: Student, via: str, *, return_form: ReturnRequestForm | None = None,
                  ack_errors: dict[int, str] | None = None):
    now = now_utc()
    #: Another form of the page was posted: the check-in form shows the last answers.
    other_form = return_form is not None or ack_errors is not None
    form = CheckinForm(formdata=None) if other_form else CheckinForm()
    if not other_form and form.validate_on_submit():
        same = checkin.same_as_yesterday(student, now) if form.same.data == "1" else None
        values = same or form.values()
        try:
            commit_write(lambda: checkin.submit_checkin(student, values, via, now,
                                                        ip=client_address()))
        except RuleError as error:
            show_rule_error(form, error)
        else:
            return redirect(request.path + "#done")
    checkins = checkin.todays_checkins(student, now)
    if request.method == "GET" or other_form:
        form.fill(checkin.prefill(student, now, checkins))
    today = local_today(now)
    first_visit = not checkins and not db.session.scalar(
        select(exists().where(CheckIn.student_id == student.id)))
    same = checkin.same_as_yesterday(student, now) if not checkins else None
    cutoff = checkin.cutoff(today)
    requests = return_requests.student_requests(student)
    return render_template(
        "checkin/page.html", form=form, student=student, via=via, today=today,
        cutoff=cutoff, past_cutoff=now > cutoff, checkins=checkins, same=same,
        first_visit=first_visit,
        province_options=province_options, city_options=city_options,
        surname=student.name[:1],
        notices=notices.student_notices(student), ack_form=AcknowledgeForm(),
        ack_errors=ack_errors or {}, requests=requests,
        open_request=next((r for r in requests if r.is_open), None),
        return_form=return_form or ReturnRequestForm(prefix="return"),
        kind="p" if via == LinkKind.PERSONAL else "c", token=request.view_args["token"],
        page_url=_page_url("p" if via == LinkKind.PERSONAL else "c", request.view_args["token"]),
    ), (400 if (return_form and return_form.errors) or ack_errors else 200)
