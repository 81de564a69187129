from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from caretrack.labels import choices


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$",
                message=_l("Letters, digits, dot, dash and underscore only."),
            ),
        ],
    )
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=choices("role"))
    #: Shown to the university admin only (a college's admin opens accounts in their own).
    college_id = SelectField(_l("College"), coerce=int, choices=[], validate_choice=False)
    email = StringField(_l("Email"), validators=[Optional(), Length(max=200)])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=10, message=_l("Use at least 10 characters."))],
        description=_l("Leave empty to keep the current password."),
    )
    submit = SubmitField(_l("Save"))

    def offer(self, roles: tuple[str, ...], colleges: list | None) -> None:
        """Offer only the roles the admin may give, and (the university admin) the colleges;
        without ``colleges`` the college field is left out."""
        self.role.choices = [c for c in self.role.choices if c.value in roles]
        if colleges is None:
            del self.college_id
        else:
            self.college_id.choices = [(0, _l("None (the university)"))] + [
                (c.id, c.name_zh) for c in colleges]


class CategoryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits and underscores only.")),
        ],
        description=_l("A stable identifier used by imports, e.g. hubei_contact."),
    )
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=100)])
    colour = StringField(
        _l("Colour"),
        default="#6c757d",
        validators=[
            DataRequired(),
            Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("A colour like #dc3545.")),
        ],
    )
    cadence_days = IntegerField(
        _l("Re-check every (days)"),
        default=7,
        validators=[InputRequired(), NumberRange(min=0, max=365)],
        description=_l("0: no regular re-check."),
    )
    isolation_days = IntegerField(
        _l("Isolation window (days)"),
        validators=[Optional(), NumberRange(min=1, max=90)],
        description=_l("Leave empty when the category has no isolation window."),
    )
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))


class StatusRuleForm(FlaskForm):
    """What one trigger of a daily status does."""

    concern_level = SelectField(_l("Raises the concern level to"), choices=choices("concern"))
    category_code = SelectField(_l("Suggests the care category"), choices=[],
                                validate_choice=False)
    schedules_recheck = BooleanField(_l("Schedules a re-check due the same day"))
    active = BooleanField(_l("In use"), default=True)
    submit = SubmitField(_l("Save"))


class RiskAreaForm(FlaskForm):
    """A province, or a city of it, on the college's risk-area list."""

    province = StringField(_l("Province"), validators=[DataRequired(), Length(max=50)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=50)],
                       description=_l("Leave empty for the whole province."))
    from_date = DateField(_l("On the list from"), validators=[DataRequired()])
    to_date = DateField(_l("On the list until"), validators=[Optional()],
                        description=_l("Leave empty while it stays on the list."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))
