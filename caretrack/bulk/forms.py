"""The bulk action's one form: the selection (ticked rows or every row matching the list's
filter), the action, its parameters, and the preview's fingerprint."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from caretrack.labels import choices
from caretrack.students.forms import new_submission_key


class BulkForm(FlaskForm):
    source = HiddenField(validators=[Length(max=20)])
    action = HiddenField(validators=[Length(max=30)])
    selected = SelectMultipleField(coerce=int, validate_choice=False)
    all_matching = BooleanField()
    #: The list's query string: its filter, for "all matching".
    filters = HiddenField(validators=[Optional(), Length(max=2000)])
    #: "" (chosen on the list), "preview" (parameters given), "confirm".
    stage = HiddenField(validators=[Optional(), Length(max=10)])
    fingerprint = HiddenField(validators=[Optional(), Length(max=64)])
    submission_key = HiddenField(default=new_submission_key,
                                 validators=[Optional(), Length(max=48)])
    next = HiddenField(validators=[Optional(), Length(max=2000)])

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})
    category_id = SelectField(_l("Care category"), coerce=str, validate_choice=False)
    day = DateField(_l("Day"), validators=[Optional()])
    level = RadioField(_l("Concern level"), choices=choices("concern"), validate_choice=False)
    to_id = SelectField(_l("To"), coerce=str, validate_choice=False)
    channel = RadioField(_l("Channel"), choices=choices("channel"), default="phone",
                         validate_choice=False)
    reached = RadioField(_l("Reached"), choices=[SelectChoice("1", _l("Reached")),
                                  SelectChoice("0", _l("Not reached"))],
                         default="1", validate_choice=False)

    def params(self) -> dict:
        """The action's parameters, as the bulk service reads them."""
        return {"reason": self.reason.data or "", "category_id": self.category_id.data,
                "day": self.day.data, "level": self.level.data or "",
                "to_id": self.to_id.data, "channel": self.channel.data or "",
                "reached": self.reached.data or "1"}
