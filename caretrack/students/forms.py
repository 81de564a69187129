"""The forms of the student page: each kind of timeline entry, categories, concern level."""

import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from caretrack.labels import choices
from caretrack.services import entries
from caretrack.services.rechecks import MAX_INTERVAL_DAYS

#: What a datetime-local input sends (with or without seconds).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
TEXT_MAX = 5000


def new_submission_key() -> str:
    """Return a fresh key that identifies one filling-in of a form."""
    return secrets.token_urlsafe(24)


def optional_int(value) -> int | None:
    """Coerce a select's value to an id; the empty "Choose…" option is None."""
    return int(value) if value not in ("", None) else None


def yes_no(yes, no) -> list[SelectChoice]:
    return [SelectChoice("1", yes), SelectChoice("0", no)]


class EntryForm(FlaskForm):
    """A form that records one timeline entry; its key makes a second post record nothing."""

    submission_key = HiddenField(default=new_submission_key,
                                 validators=[Optional(), Length(max=64)])


class FollowUpForm(EntryForm):
    occurred_at = DateTimeLocalField(_l("When"), format=DATETIME_FORMATS,
                                     validators=[DataRequired()])
    channel = RadioField(_l("Channel"), choices=choices("channel"), default="phone")
    reached = RadioField(_l("Reached the student?"),
                         choices=yes_no(_l("Reached"), _l("Not reached")), default="1")
    health = RadioField(_l("Health observed"), choices=choices("health_observed"),
                        default="normal")
    body = TextAreaField(_l("What was said"), validators=[Optional(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 4})
    check_again_in_days = IntegerField(
        _l("Check again in (days)"),
        validators=[Optional(), NumberRange(min=0, max=MAX_INTERVAL_DAYS)],
        description=_l("Pre-filled from the student's care categories; empty or 0: no re-check."),
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_INTERVAL_DAYS},
    )
    next = HiddenField()
    submit = SubmitField(_l("Save follow-up"))

    @staticmethod
    def defaults(*, reached: bool, suggestion: dict, next_url: str, now) -> dict:
        """What a new follow-up form shows: reached or not (as the link asked), its health,
        now, the suggested interval and the way back."""
        return {"reached": "1" if reached else "0", "health": "normal" if reached else "unknown",
                "occurred_at": now, "next": next_url,
                "check_again_in_days": suggestion["reached" if reached else "not_reached"]}


#: The units a delivery line suggests (its unit is free text).
UNIT_SUGGESTIONS = (_l("pcs"), _l("box"), _l("bag"), _l("bottle"), _l("pack"), _l("portion"),
                    "kg", _l("litre"))


class ItemLine(Form):
    """One line of a supply delivery: what, how many, and in which unit (箱, 袋, kg, ...)."""

    name = StringField(_l("Item delivered"), validators=[Optional(), Length(max=100)])
    quantity = StringField(_l("Quantity"), validators=[Optional(), Length(max=12)],
                           render_kw={"inputmode": "decimal", "autocomplete": "off"})
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=entries.UNIT_MAX)],
                       render_kw={"list": "delivery-units", "autocomplete": "off"})

    def validate_quantity(self, field):
        if (field.data or "").strip() and entries.parse_quantity(field.data) is None:
            raise ValidationError(_l("A number above 0, e.g. 2 or 1.5."))


class DeliveryForm(EntryForm):
    occurred_at = DateTimeLocalField(_l("When"), format=DATETIME_FORMATS,
                                     validators=[DataRequired()])
    items = FieldList(FormField(ItemLine), min_entries=4, max_entries=20)
    unit_suggestions = UNIT_SUGGESTIONS
    place = RadioField(_l("Delivered to"), choices=choices("delivery_place"),
                       default="dormitory")
    place_detail = StringField(_l("Room or address"), validators=[Optional(), Length(max=100)])
    received = RadioField(_l("Received?"),
                          choices=yes_no(_l("Received"), _l("Not received")), default="1")
    delivered_by = StringField(_l("Delivered by"), validators=[DataRequired(), Length(max=100)])
    body = TextAreaField(_l("Note"), validators=[Optional(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 2})
    submit = SubmitField(_l("Save delivery"))

    def validate_items(self, field):
        """At least one item; every line with an item has a quantity and the reverse."""
        named = 0
        for line in field:
            name = (line.form.name.data or "").strip()
            quantity = (line.form.quantity.data or "").strip() or None
            if name and quantity is None and not line.form.quantity.errors:
                line.form.quantity.errors.append(_l("How many?"))
            if not name and quantity is not None:
                line.form.name.errors.append(_l("What was delivered?"))
            named += bool(name)
        if not named:
            raise ValidationError(_l("List at least one item."))
        if any(line.errors for line in field):
            raise ValidationError(_l("Check the items."))

    def validate_place_detail(self, field):
        if self.place.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say where, for another place."))

    def lines(self) -> list[tuple[str, str, str]]:
        return [
            (line.form.name.data.strip(), line.form.quantity.data.strip(),
             (line.form.unit.data or "").strip())
            for line in self.items
            if (line.form.name.data or "").strip()
        ]


class ReferralForm(EntryForm):
    supervisor_id = SelectField(_l("Supervisor"), coerce=optional_int,
                                validators=[InputRequired(_l("Choose a supervisor."))])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           render_kw={"rows": 4})
    urgency = RadioField(_l("Urgency"), choices=choices("urgency"), default="normal")
    submit = SubmitField(_l("Refer"))

    def offer(self, supervisors, student_supervisor_id: int | None) -> None:
        """Offer ``supervisors``, marking the student's own."""
        self.supervisor_id.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(str(s.id), s.display_name + (" · " + _("the student's supervisor")
                                                      if s.id == student_supervisor_id else ""))
            for s in supervisors
        ]


class NoteForm(EntryForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 5})
    submit = SubmitField(_l("Save note"))


class CorrectionForm(EntryForm):
    body = TextAreaField(_l("What was wrong, and what is right"),
                         validators=[DataRequired(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 4})
    submit = SubmitField(_l("Save correction"))


class AddCategoryForm(EntryForm):
    category_id = SelectField(_l("Care category"), coerce=optional_int,
                              validators=[InputRequired(_l("Choose a care category."))])
    started_on = DateField(_l("Since"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("Add category"))

    def offer(self, categories, locale: str) -> None:
        """Offer ``categories`` by their names in ``locale``, with their isolation window."""
        self.category_id.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(str(c.id), c.name_for(locale) + _isolation_hint(c)) for c in categories
        ]


def _isolation_hint(category) -> str:
    if not category.isolation_days:
        return ""
    return " · " + _("%(days)d-day isolation window", days=category.isolation_days)


class EndCategoryForm(EntryForm):
    ended_on = DateField(_l("Ended on"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("End category"))


class ConcernForm(EntryForm):
    level = RadioField(_l("Concern level"), choices=choices("concern"))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT_MAX)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("Change concern level"))


class RevokeReferralForm(EntryForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=TEXT_MAX)],
                           render_kw={"rows": 3})
    submit = SubmitField(_l("Revoke referral"))


class SuggestionForm(FlaskForm):
    """Apply or dismiss a status rule's suggestion in one click (only the CSRF token)."""
