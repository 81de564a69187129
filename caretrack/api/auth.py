"""Who calls the API: a personal access token (``Authorization: Bearer``), or the browser
session, whose writes need the CSRF token as the forms do. A read-only token cannot write."""

from flask import current_app, g, request
from flask_login import current_user
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized

from caretrack.api import bp
from caretrack.extensions import csrf, db
from caretrack.messages import message
from caretrack.models import now_utc
from caretrack.services.api_tokens import authenticate

#: Endpoints anyone may read: the description of the API and its documentation page.
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.docs"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _refuse(status: int, code: str):
    error = {401: Unauthorized, 403: Forbidden}[status]()
    error.problem_code = code
    error.problem_detail = message(code)
    raise error


@bp.before_request
def authenticate_caller():
    """Authenticate the token or the session; check the CSRF token of a session's write and
    the scope of a token's write.

    :raise 401: without a usable token or a session; :raise 403: a write with a read-only
        token; :raise 400: a session's write without its CSRF token.
    """
    forget_caller()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, secret = header.partition(" ")
        token = authenticate(secret.strip(), now_utc()) if scheme.lower() == "bearer" else None
        if token is None:
            _refuse(401, "api-unauthenticated")
        db.session.commit()  # "last used", whatever the request does next
        g._login_user = token.user  # the request runs as the token's user, without a session
        g.api_token = token
        if request.method not in SAFE_METHODS and not token.can_write:
            _refuse(403, "api-read-only")
        return None
    g.api_token = None
    if not current_user.is_authenticated:
        _refuse(401, "api-unauthenticated")
    if request.method not in SAFE_METHODS and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()
    return None


@bp.teardown_request
def forget_caller(error=None) -> None:
    """Forget the token's user: an app context shared by several requests (tests, a
    request inside a command) must not carry it to the next request."""
    g.pop("_login_user", None)
    g.pop("api_token", None)


#: The largest id a URL may name (the database's integer); a larger one names nothing.
MAX_ID = 2**31 - 1


@bp.url_value_preprocessor
def refuse_impossible_ids(endpoint, values) -> None:
    """:raise 404: for an id in the URL beyond any the database holds."""
    if any(isinstance(v, int) and v > MAX_ID for v in (values or {}).values()):
        raise NotFound()
