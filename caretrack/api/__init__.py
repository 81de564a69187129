"""The JSON API for the university's other systems, under /api/v1/, described by an OpenAPI
3.1 document generated from the code (flask-smorest: a plain Flask blueprint with marshmallow
schemas, so the app stays a plain Flask app and its WTForms stay as they are)."""

import hashlib
import http

from flask import Flask, request
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest.utils import prepare_response

from caretrack.api.schemas import ProblemSchema
from caretrack.extensions import csrf, limiter
from caretrack.security import address_key, config_limit

PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"

bp = ApiBlueprint("api", __name__, description="CareTrack's JSON API")


class CareTrackApi(Api):
    """flask-smorest's Api, which documents its errors as RFC 9457 problems and leaves the
    app's error handlers (the HTML error pages) alone: the API blueprint has its own."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


def register(app: Flask) -> None:
    """Register the API: its spec, its blueprint (exempt from the forms' CSRF check, which
    :mod:`caretrack.api.auth` applies to session-authenticated writes only) and its errors."""
    app.config.setdefault("API_TITLE", "CareTrack")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "servers": [{"url": "/"}],
        "info": {"description": (
            "Authenticate with a personal access token (`Authorization: Bearer ct_...`, "
            "created on the account page) or the browser session (writes then need the "
            "`X-CSRFToken` header). Errors are RFC 9457 problems."
        )},
        "components": {"securitySchemes": {
            "token": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
        }},
        "security": [{"token": []}, {"session": []}],
    })
    api = CareTrackApi(app)
    app.extensions["caretrack-api"] = api
    csrf.exempt(bp)
    api.register_blueprint(bp, url_prefix=PREFIX)


def caller_key() -> str:
    """Who the limit counts: the bearer token (its digest), else the signed-in user, else the
    address. The limit is checked before the API authenticates the call."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "address:" + address_key()


# The sign-in's limiter, per caller: API_LIMIT requests (default 600 a minute) for each token,
# signed-in user or address; beyond it a 429 problem. Declared once, with the blueprint.
limiter.limit(config_limit("API_LIMIT"), key_func=caller_key, scope="api")(bp)

from caretrack.api import (  # noqa: E402,F401
    auth,
    cli,
    daily,
    docs,
    problems,
    rechecks,
    referrals,
    students,
    timeline,
)
