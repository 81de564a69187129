"""Forms of the daily report: a student's status, the check-in sheet, submitting, reviewing."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from caretrack.labels import CHANNEL, choices
from caretrack.services.daily.chase import CHANNELS
from caretrack.services.daily.values import DayStatus, StatusValues
from caretrack.students.forms import new_submission_key


class StatusForm(FlaskForm):
    """Today's location and health of one student."""

    province = StringField(_l("Province"), validators=[Optional(), Length(max=50)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=50)])
    on_campus = BooleanField(_l("On campus"))
    #: The counsellor confirms a move on campus without an approved early-return request.
    campus_confirmed = BooleanField(_l("Yes, the student is on campus without an approved "
                                       "request"))
    health = SelectField(_l("Health"), choices=choices("health"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    next = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.on_campus.data and not (self.province.data or "").strip():
            self.province.errors.append(_l("Enter the province, or tick “On campus”."))
            return False
        return True

    @classmethod
    def for_status(cls, status: DayStatus, next: str = "") -> "StatusForm":
        """The form filled with the student's status (the posted data wins)."""
        values = status.values
        return cls(data={
            "province": values.province, "city": values.city, "on_campus": values.on_campus,
            "health": values.health, "note": status.note, "next": next,
        })

    def values(self) -> StatusValues:
        """The status the form describes."""
        return StatusValues(self.province.data or "", self.city.data or "",
                            bool(self.on_campus.data), self.health.data)


class UploadForm(FlaskForm):
    """The check-in sheet the class collected."""

    sheet = FileField(
        _l("Check-in sheet"),
        validators=[
            FileRequired(_l("Choose a CSV or XLSX file.")),
            FileAllowed(["csv", "xlsx"], _l("Choose a CSV or XLSX file.")),
        ],
        description=_l("Columns: student number, name (optional), province and city or "
                       "location, on campus (optional), health, note (optional). Chinese or "
                       "English headers."),
    )
    #: Which sheet of a workbook to read (empty: the first with the columns).
    sheet_name = StringField(_l("Sheet"), validators=[Optional(), Length(max=31)])


class ConfirmUploadForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class SubmitReportForm(FlaskForm):
    """Submit (or resubmit) a day's report."""

    day = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note to the deputy secretary"),
                         validators=[Optional(), Length(max=2000)])
    #: "1" once the counsellor has been told how many students are unconfirmed.
    confirm = HiddenField()
    #: The absent colleague whose report a cover submits; empty: the user's own.
    caseload = HiddenField()


class ActionForm(FlaskForm):
    """A one-click action: only the CSRF token (and where to go back to)."""

    next = HiddenField()


class ReviewForm(FlaskForm):
    """Approve or return a report."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    next = HiddenField()
    #: "1" once the deputy secretary has been told how many students are unconfirmed.
    confirm = HiddenField()


class ApproveAllForm(FlaskForm):
    """Approve the listed reports of a day: each sent as a ``report`` field ``id:version``."""

    day = HiddenField()

    def day_value(self) -> date | None:
        try:
            return date.fromisoformat(self.day.data or "")
        except ValueError:
            return None

    @staticmethod
    def listed(values: list[str]) -> dict[int, int]:
        """The reports shown, by id, with the version each was shown at."""
        listed = {}
        for value in values[:200]:
            report_id, _sep, version = value.partition(":")
            if report_id.isdigit() and version.isdigit():
                listed[int(report_id)] = int(version)
        return listed


# -- the chase list -------------------------------------------------------------------------


def _chase_channels():
    return [(str(c), CHANNEL[c]) for c in CHANNELS]


class ChaseContactForm(FlaskForm):
    """One contact from the chase list: the channel, what it found (the button pressed), a
    note."""

    channel = SelectField(_l("Contacted by"), choices=_chase_channels, default="phone")
    outcome = HiddenField()
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submission_key = HiddenField(validators=[Optional(), Length(max=48)])
    next = HiddenField()


class ChaseConfirmForm(FlaskForm):
    """Several students reached by one channel, each confirmed with no change."""

    selected = SelectMultipleField(coerce=int, validate_choice=False)
    channel = SelectField(_l("Contacted by"), choices=_chase_channels, default="phone")
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])
    submission_key = HiddenField(default=new_submission_key,
                                 validators=[Optional(), Length(max=48)])
    next = HiddenField()
