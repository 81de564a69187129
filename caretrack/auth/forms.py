from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=12, max=128, message=_l("Use 12 to 128 characters.")),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class PreferencesForm(FlaskForm):
    locale = SelectField(
        _l("Language"), choices=[SelectChoice("zh_CN", "简体中文"), SelectChoice("en", "English")]
    )
    email = StringField(_l("Email"), validators=[Length(max=200)])
    submit = SubmitField(_l("Save"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=32)],
        description=_l("The 6 digits your authenticator app shows, or a recovery code."),
    )
    submit = SubmitField(_l("Continue"))


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from the app"), validators=[DataRequired(), Length(max=16)],
        description=_l("Scan the QR code with an authenticator app, then type the 6 digits it "
                       "shows."),
    )
    submit = SubmitField(_l("Turn on two-factor sign-in"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Confirm"))
