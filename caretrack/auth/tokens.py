"""The account page's personal access tokens for the JSON API: create one (its secret is
shown once, on the page that answers the creation), list them, revoke one (branch api)."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from caretrack.auth import bp
from caretrack.auth.forms import SCOPE_LABELS, ApiTokenForm, PreferencesForm
from caretrack.auth.reminders import reminder_context
from caretrack.models import now_utc
from caretrack.services.api_tokens import create_token, revoke_token, tokens_of
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error


def token_context(form: ApiTokenForm | None = None) -> dict:
    """What the account page's token card shows: the creation form and the user's tokens."""
    return {"token_form": form or ApiTokenForm(formdata=None), "tokens": tokens_of(current_user),
            "scope_labels": SCOPE_LABELS, "now": now_utc()}


@bp.post("/account/tokens")
@login_required
def create_api_token():
    form = ApiTokenForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            token, secret = commit_write(lambda: create_token(
                user, name=form.name.data, scope=form.scope.data, days=form.days.data,
                now=now_utc(), ip=client_address(),
            )).result
        except RuleError as error:
            show_rule_error(form, error)
        else:
            # The secret is on this page only: it is not stored, and the page is not cached.
            answer = make_response(render_template(
                "auth/token_created.html", token=token, secret=secret,
                scope_labels=SCOPE_LABELS))
            answer.headers["Cache-Control"] = "no-store"
            return answer
    return render_template("auth/account.html", form=PreferencesForm(obj=current_user),
                           **token_context(form), **reminder_context(current_user))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    user = current_user._get_current_object()
    try:
        token = commit_write(lambda: revoke_token(
            user, token_id, now=now_utc(), ip=client_address())).result
    except RuleError:
        abort(404)  # another user's token, as one that does not exist
    flash(_("The token “%(name)s” is revoked; it no longer works.", name=token.name), "success")
    return redirect(url_for("auth.account") + "#api-tokens")
