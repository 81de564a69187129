from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

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
    email = StringField(_l("Email"), validators=[Optional(), Length(max=200)])
    active = BooleanField(_l("Active"), default=True)
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(min=10, message=_l("Use at least 10 characters."))],
        description=_l("Leave empty to keep the current password."),
    )
    submit = SubmitField(_l("Save"))
