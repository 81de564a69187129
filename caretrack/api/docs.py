"""The API's description (generated from the code) and its documentation page (Swagger UI,
vendored in static/vendor/swagger-ui, so it works offline)."""

from flask import Blueprint as FlaskBlueprint
from flask import current_app, render_template

from caretrack.api import bp


def openapi_json():
    """The OpenAPI 3.1 description of this API."""
    return current_app.json.response(current_app.extensions["caretrack-api"].spec.to_dict())


def docs():
    """The API's documentation page."""
    return render_template("api/docs.html")


# Plain Flask rules: the description does not describe itself.
FlaskBlueprint.add_url_rule(bp, "/openapi.json", view_func=openapi_json)
FlaskBlueprint.add_url_rule(bp, "/docs", view_func=docs)
