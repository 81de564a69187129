from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class StepForm(FlaskForm):
    """Every step carries the version of the request the page showed: a stale step is a 409."""

    version = HiddenField()

    def version_number(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


class RecommendForm(StepForm):
    recommendation = RadioField(_l("Your recommendation"), choices=[
        SelectChoice("approve", _l("Recommend approving")),
        SelectChoice("decline", _l("Recommend declining"))],
        validators=[DataRequired()])
    note = TextAreaField(_l("Note for the deputy secretary"),
                         description=_l("What you talked about with the student."),
                         validators=[DataRequired(), Length(max=4000)])


class ApproveForm(StepForm):
    arrival_on = DateField(_l("Allowed arrival from"), validators=[DataRequired()])
    plan = TextAreaField(_l("Arrival plan"), default=_l("14 days isolated on campus"),
                         validators=[DataRequired(), Length(max=2000)])
    isolation_days = IntegerField(_l("Days isolated on campus"), default=14,
                                  validators=[Optional(), NumberRange(min=0, max=60)])


class DeclineForm(StepForm):
    reason = TextAreaField(_l("Reason (the student reads it)"),
                           validators=[DataRequired(), Length(max=4000)])


class ArrivalForm(StepForm):
    arrived_on = DateField(_l("Arrived on"), validators=[DataRequired()])
