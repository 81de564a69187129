import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from caretrack.services.review import Decision

DECISIONS = [
    SelectChoice(Decision.KEEP, _l("Keep the concern level high")),
    SelectChoice(Decision.LOWER_ELEVATED, _l("Lower to elevated")),
    SelectChoice(Decision.LOWER_NORMAL, _l("Lower to normal")),
    SelectChoice(Decision.ASK_COUNSELLOR, _l("Ask the counsellor to act by a date")),
]


class ReviewForm(FlaskForm):
    note = TextAreaField(_l("Review note"), validators=[DataRequired(), Length(max=4000)])
    decision = RadioField(_l("Decision"), choices=DECISIONS, default=Decision.KEEP)
    act_by = DateField(_l("Act by"), validators=[Optional()])
    submission_key = HiddenField(default=lambda: secrets.token_urlsafe(16))


class FlagForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should the deputy secretary review this student?"),
        validators=[DataRequired(), Length(max=2000)],
    )
