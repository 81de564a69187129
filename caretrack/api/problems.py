"""The API's errors: RFC 9457 problem details (``application/problem+json``), with a stable
``type`` per rule error code and the field it concerns; validation errors list every field."""

from flask import current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from caretrack.api import PREFIX, PROBLEM_TYPE, bp
from caretrack.errors import ERROR_PAGES
from caretrack.extensions import db
from caretrack.messages import message
from caretrack.services.errors import RuleError

#: Every rule error's ``type`` is this followed by its code (see caretrack/messages.py).
TYPE_PREFIX = "urn:caretrack:problem:"
#: The status codes the API answers with a problem of its own (the rest are "about:blank").
PLAIN_STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)


def problem_response(status: int, *, code: str | None = None, detail: str = "",
                     field: str | None = None, errors: list[dict] | None = None,
                     headers: dict | None = None):
    """Return a problem+json response; ``code`` (a rule error code) gives its ``type``."""
    db.session.rollback()
    title = ERROR_PAGES.get(status, (None, ""))[0]
    body = {
        "type": TYPE_PREFIX + code if code else "about:blank",
        "title": str(title) if title else _http_phrase(status),
        "status": status,
        "detail": detail or (str(ERROR_PAGES[status][1]) if status in ERROR_PAGES else ""),
        "instance": request.path,
    }
    if code:
        body["code"] = code
    if field:
        body["field"] = field
    if errors is not None:
        body["errors"] = errors
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def rule_problem(error: RuleError, status: int | None = None):
    """The problem of a rule's refusal: 409 for a race, else 422 (or ``status``)."""
    return problem_response(
        status or (409 if error.conflict else 422), code=error.code, field=error.field,
        detail=message(error.code, **error.values),
    )


def validation_errors(messages: dict) -> list[dict]:
    """Flatten webargs' ``{location: {field: [sentences]}}`` into one item per field."""
    found = []

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        else:
            sentences = value if isinstance(value, list) else [value]
            found.append({"field": prefix, "code": "invalid",
                          "detail": " ".join(str(s) for s in sentences)})

    for location_messages in messages.values():
        walk("", location_messages)
    return found


def http_problem(error: HTTPException):
    status = error.code or 500
    if status == 422 and getattr(error, "data", None):
        messages = error.data.get("messages", {})
        return problem_response(422, code="invalid", errors=validation_errors(messages),
                                detail=_("Some fields are invalid; see errors."))
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(status, headers=headers, code=getattr(error, "problem_code", None),
                            detail=getattr(error, "problem_detail", ""))


def wants_problem() -> bool:
    """Whether the request is the API's (also for a URL no route matched)."""
    return request.path.startswith(PREFIX + "/") or request.path == PREFIX


bp.register_error_handler(RuleError, rule_problem)
bp.register_error_handler(CSRFError, lambda error: problem_response(
    400, code="csrf", detail=_("The CSRF token is missing or wrong: send the X-CSRFToken "
                               "header with the token of the page.")))
for _status in PLAIN_STATUSES:
    bp.register_error_handler(_status, http_problem)
