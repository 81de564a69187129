"""Forms of the check-in: proving who one is on a class link, and the check-in itself."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from caretrack.labels import choices
from caretrack.services.checkin import CheckinValues
from caretrack.services.return_requests import ReturnAsk

YES_NO = [SelectChoice("no", _l("No")), SelectChoice("yes", _l("Yes"))]


class IdentityForm(FlaskForm):
    """A student number and the last four digits of the phone on the roster."""

    student_number = StringField(_l("Student number"), validators=[DataRequired(), Length(max=32)])
    phone_digits = StringField(
        _l("Last four digits of your phone"),
        validators=[DataRequired(), Regexp(r"^\d{4}$", message=_l("Four digits."))],
    )


class CheckinForm(FlaskForm):
    """Today's place and health, as the student answers them."""

    province = StringField(_l("Province"), validators=[Optional(), Length(max=50)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=50)])
    abroad = BooleanField(_l("I am abroad"))
    country = StringField(_l("Country"), validators=[Optional(), Length(max=60)])
    on_campus = RadioField(_l("On campus"), choices=YES_NO,
                           default="no", validate_choice=False)
    health = RadioField(_l("Health"), choices=choices("health"), validate_choice=False)
    temperature = StringField(_l("Temperature (°C)"), validators=[Optional(), Length(max=10)])
    risk_contact = RadioField(
        _l("In the last 14 days, contact with someone from Hubei or a risk area"),
        choices=YES_NO, default="no", validate_choice=False,
    )
    note = TextAreaField(_l("Note to your counsellor"), validators=[Optional(), Length(max=500)])
    #: "1" on the one-tap "same as yesterday, healthy" form.
    same = HiddenField()

    def fill(self, values: CheckinValues) -> None:
        """Show ``values`` (the last answers) in the form."""
        for name in ("province", "city", "abroad", "country", "health", "temperature", "note"):
            getattr(self, name).data = getattr(values, name)
        self.on_campus.data = "yes" if values.on_campus else "no"
        self.risk_contact.data = "yes" if values.risk_contact else "no"

    def values(self) -> CheckinValues:
        return CheckinValues(
            province=(self.province.data or "").strip(), city=(self.city.data or "").strip(),
            abroad=bool(self.abroad.data), country=(self.country.data or "").strip(),
            on_campus=self.on_campus.data == "yes", health=self.health.data or "",
            temperature=(self.temperature.data or "").strip(),
            risk_contact=self.risk_contact.data == "yes", note=self.note.data or "",
        )


class RotateForm(FlaskForm):
    """Rotate links (a class's when ``class_name`` is given); ``next`` says where to go back."""

    class_name = HiddenField()
    next = HiddenField()


class AcknowledgeForm(FlaskForm):
    """"I have read it", with the notice's pledge ticked when it has one."""

    pledge = BooleanField()


class ReturnRequestForm(FlaskForm):
    """A student's request to return to campus early."""

    reason = RadioField(_l("Why do you want to return early?"), choices=choices("return_reason"),
                        validate_choice=False)
    wanted_on = DateField(_l("When do you want to return?"), validators=[Optional()])
    travel_from = StringField(_l("Where would you travel from?"),
                              validators=[Optional(), Length(max=100)])
    details = TextAreaField(_l("Details (what for, where you would stay)"),
                            validators=[Optional(), Length(max=2000)])

    def values(self) -> ReturnAsk:
        return ReturnAsk(reason=self.reason.data or "", wanted_on=self.wanted_on.data,
                         travel_from=self.travel_from.data or "", details=self.details.data or "")
