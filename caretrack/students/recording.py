"""The one way the student page's forms are answered: show the form, or record it through one
service verb, commit, flash and go back; a refusal is shown beside the field it concerns."""

from collections.abc import Callable
from datetime import UTC, date, datetime

from flask import flash, redirect, render_template, request, url_for

from caretrack.models import Student, now_utc
from caretrack.services.clock import college_tz, local_today
from caretrack.services.errors import RuleError
from caretrack.services.timeline import find_submission
from caretrack.web import commit_write, show_rule_error, status_of


def entry_form(
    form,
    template: str,
    student: Student,
    write: Callable[[str | None], object],
    *,
    saved: str,
    to: str,
    defaults: dict | None = None,
    fields: dict[str, str] | None = None,
    default_field: str | None = None,
    **context,
):
    """Answer one form about ``student``.

    GET shows ``template`` with ``defaults`` filled in. A valid POST runs ``write(submission
    key)`` - one service verb - through :func:`caretrack.web.commit_write`, flashes ``saved``
    and redirects ``to``. A double submit answers the same; the recorded key is looked up only
    when the form or a rule refuses the post (its choices may have changed since the first).
    A rule's refusal is shown beside its field (``fields`` maps codes to the field when the
    rule names none, else ``default_field``) and the form keeps what was typed.
    """
    if request.method == "GET":
        for name, value in (defaults or {}).items():
            form[name].data = value
    elif form.validate_on_submit():
        key = form.submission_key.data or None
        try:
            commit_write(lambda: write(key), submission_key=key, show_conflicts=True)
        except RuleError as error:
            if find_submission(key) is not None:
                return _saved(saved, to)
            show_rule_error(form, error, (fields or {}).get(error.code, default_field))
            return render_template(template, form=form, student=student,
                                   **context), status_of(error)
        else:
            return _saved(saved, to)
    elif find_submission(form.submission_key.data or None) is not None:
        return _saved(saved, to)
    return render_template(template, form=form, student=student, **context)


def _saved(message: str, to: str):
    flash(message, "success")
    return redirect(to)


def local_now() -> datetime:
    """The college's wall-clock time now, to the minute, without a timezone (for inputs)."""
    return now_utc().astimezone(college_tz()).replace(second=0, microsecond=0, tzinfo=None)


def local_today_now() -> date:
    """The college's date today."""
    return local_today(now_utc())


def as_utc(local: datetime) -> datetime:
    """The instant of a wall-clock time typed in the college's timezone."""
    return local.replace(tzinfo=college_tz()).astimezone(UTC)


def student_url(student: Student, entry_id: int | None = None) -> str:
    """The student page, or the place of one entry on it."""
    if entry_id is None:
        return url_for("students.detail", student_id=student.id)
    return url_for("students.detail", student_id=student.id, entry=entry_id,
                   _anchor=f"entry-{entry_id}")
