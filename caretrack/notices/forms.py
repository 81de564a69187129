import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from caretrack.services.clock import college_tz
from caretrack.services.notices import NoticeDraft


def _key() -> str:
    return secrets.token_urlsafe(16)


class NoticeForm(FlaskForm):
    """A new notice (or a correction, whose audience is the corrected notice's)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), description=_l("Plain text; line breaks and web addresses "
                                                     "are shown as they are."),
                         validators=[DataRequired(), Length(max=10000)])
    audience = RadioField(_l("To"), validate_choice=False)
    classes = SelectMultipleField(_l("Classes"), validate_choice=False)
    programme = SelectField(_l("Programme"), validate_choice=False)
    cohort = SelectField(_l("Cohort"), validate_choice=False)
    category = SelectField(_l("Care category"), validate_choice=False)
    must_acknowledge = BooleanField(_l("Each student must acknowledge it"), default=True)
    pledge = TextAreaField(_l("Pledge the student ticks (optional)"),
                           description=_l("For a pledge campaign, e.g. “I will not return to "
                                          "campus before the university allows it.”"),
                           validators=[Optional(), Length(max=1000)])
    deadline = DateTimeLocalField(_l("Deadline"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    submission_key = HiddenField(default=_key)

    def values(self) -> tuple[str, ...]:
        picked = {"classes": tuple(self.classes.data or ()),
                  "programme": (self.programme.data or "",),
                  "cohort": (self.cohort.data or "",),
                  "category": (self.category.data or "",)}
        return picked.get(self.audience.data or "", ())

    def draft(self) -> NoticeDraft:
        deadline = self.deadline.data
        return NoticeDraft(
            title=self.title.data or "", body=self.body.data or "",
            audience=self.audience.data or "", values=self.values(),
            must_acknowledge=bool(self.must_acknowledge.data), pledge=self.pledge.data or "",
            deadline=deadline.replace(tzinfo=college_tz()) if isinstance(deadline, datetime)
            else None,
        )


class ChaseForm(FlaskForm):
    """The chase page's CSRF-protected actions."""
