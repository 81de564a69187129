"""The error pages: one template, a title and a sentence for each status code."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError

from caretrack.extensions import db
from caretrack.messages import message
from caretrack.services.errors import RuleError

#: The title and the explanation of each error page, by status code.
ERROR_PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. If you were submitting "
                                "a form, reload the page and try again.")),
    403: (_l("Not allowed"), _l("You are not allowed to do this.")),
    404: (_l("Not found"), _l("There is nothing here, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (_l("Changed meanwhile"), _l("Someone changed this record after you opened it. Reload "
                                      "the page to see the current version, then try again.")),
    413: (_l("File too large"), _l("The file is larger than the upload limit. Split it or "
                                   "remove unneeded columns and try again.")),
    422: (_l("Cannot use this file"), _l("The file was read, but what it holds cannot be "
                                         "used. Nothing was saved.")),
    429: (_l("Too many tries"), _l("Too many tries in a short time. Wait a few minutes and "
                                   "try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. Nothing was saved. "
                                         "Please try again; if it persists, tell the "
                                         "administrator.")),
}
CSRF_NOTE = _l("The form had expired or was sent from elsewhere. Nothing was saved.")


def error_page(code: int, note: str = ""):
    """Render the error page of ``code`` (after rolling back whatever the request began)."""
    db.session.rollback()
    title, explanation = ERROR_PAGES[code]
    return render_template(
        "errors/error.html", code=code, title=title, message=explanation, note=note
    ), code


def rule_error_page(error: RuleError):
    """A rule's refusal that no form showed: a race (someone acted meanwhile) is a 409 with
    the rule's sentence, any other refusal a 400."""
    return error_page(409 if error.conflict else 400, message(error.code, **error.values))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(RuleError, rule_error_page)
    for code in ERROR_PAGES:
        app.register_error_handler(code, lambda error, code=code: error_page(code))
    app.register_error_handler(CSRFError, lambda error: error_page(400, CSRF_NOTE))
    app.register_error_handler(RateLimitExceeded, too_many_tries)


def too_many_tries(error: RateLimitExceeded):
    """A breached rate limit: the page its view's ``on_breach`` made, else the 429 page."""
    if error.response is not None:
        return error.response
    return error_page(429)
