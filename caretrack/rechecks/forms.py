"""Forms to add, reschedule and cancel a re-check."""

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


def _submission_key() -> str:
    return secrets.token_urlsafe(16)


class _RecheckForm(FlaskForm):
    #: Carried by the form so that posting it twice records one change.
    submission_key = HiddenField(default=_submission_key, validators=[Length(max=64)])
    next = HiddenField()


class NewRecheckForm(_RecheckForm):
    due_on = DateField(
        _l("Due on"), validators=[InputRequired(message=_l("Give the day it is due."))]
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why.")), Length(max=500)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Add re-check"))


class RescheduleForm(_RecheckForm):
    due_on = DateField(
        _l("New due date"), validators=[InputRequired(message=_l("Give the day it is due."))]
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why.")), Length(max=500)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Reschedule"))


class CancelForm(_RecheckForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Say why.")), Length(max=500)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Cancel re-check"))
