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


def commit_write(change: Callable[[], T], *, submission_key: str | None = None) -> Written[T]:
    """Run ``change`` (one service verb) and commit it.

    A double submit (the submission key was recorded already, before or by a racing request)
    writes nothing and answers ``duplicate``. The session is rolled back on any failure.

    :raise RuleError: when a rule refuses the change (show it with :func:`show_rule_error`).
    :raise 409: when a versioned row changed meanwhile or the rule says someone acted first.
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
        abort(409)
    except RuleError as error:
        db.session.rollback()
        if error.conflict:
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


def client_address() -> str:
    """The address the request came from, for the audit."""
    return request.remote_addr or ""
