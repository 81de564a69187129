import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _key() -> str:
    return secrets.token_urlsafe(16)


class StepForm(FlaskForm):
    """Accept or mark done: an optional note."""

    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])
    submission_key = HiddenField(default=_key)


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why do you decline?"), validators=[DataRequired(), Length(max=4000)])
    submission_key = HiddenField(default=_key)


class RespondForm(FlaskForm):
    body = TextAreaField(
        _l("What did you do?"),
        description=_l("For example: held an online thesis session."),
        validators=[DataRequired(), Length(max=4000)],
    )
    submission_key = HiddenField(default=_key)


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=4000)])
    submission_key = HiddenField(default=_key)
