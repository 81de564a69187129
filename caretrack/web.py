"""The one write path of the web layer: run a service verb, commit, and answer a duplicate, a
rule's refusal or a race the same way everywhere."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import abort, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from caretrack.extensions import db
from caretrack.messages import message
from caretrack.services.errors import DuplicateSubmission, RuleError
from caretrack.services.timeline import find_submission

T = TypeVar("T")


@dataclass
class Written(Generic[T]):
    """What a committed write gave: the service's result, or ``duplicate`` when the same
    submission had been recorded already and nothing new was written."""

    result: T | None = None
    duplicate: bool = False


def commit_write(
    change: Callable[[], T], *, submission_key: str | None = None, show_conflicts: bool = False
) -> Written[T]:
    """Run ``change`` (one service verb) and commit it.

    A double submit (the submission key was recorded already, before or by a racing request)
    writes nothing and answers ``duplicate``. The session is rolled back on any failure.

    :raise RuleError: when a rule refuses the change (show it with :func:`show_rule_error`).
        With ``show_conflicts`` a race (a versioned row changed meanwhile: the rule error
        "stale"; or a rule's conflict) is raised too, for a form that shows it beside its field
        with the status :func:`status_of` gives (409), keeping what was typed.
    :raise 409: for a race, without ``show_conflicts``.
    """
    try:
        result = change()
        db.session.commit()
    except DuplicateSubmission:
        db.session.rollback()
        return Written(duplicate=True)
    except IntegrityError:
        db.session.rollback()
        if submission_key and find_submission(submission_key) is not None:
            return Written(duplicate=True)
        raise
    except StaleDataError:
        db.session.rollback()
        if not show_conflicts:
            abort(409)
        raise RuleError("stale", conflict=True) from None
    except RuleError as error:
        db.session.rollback()
        if error.conflict and not show_conflicts:
            abort(409)
        raise
    except Exception:
        db.session.rollback()
        raise
    return Written(result=result)


def show_rule_error(form, error: RuleError, default_field: str | None = None) -> None:
    """Show a rule's refusal beside the field it belongs to (or above the form)."""
    name = error.field or default_field
    text = message(error.code, **error.values)
    if name is not None and name in form:
        form[name].errors = [*form[name].errors, text]
    else:
        form.form_errors.append(text)


def status_of(error: RuleError) -> int:
    """The status of a form shown again with a rule's refusal: 409 when someone acted
    meanwhile (the form keeps what was typed), else 200."""
    return 409 if error.conflict else 200


def client_address() -> str:
    """The address the request came from, for the audit."""
    return request.remote_addr or ""
