"""The form of a college."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class CollegeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(), Length(max=20),
            Regexp(r"^[a-z0-9]+$", message=_l("Lower-case letters and digits only.")),
        ],
        description=_l("Short, e.g. sem; the demo prefixes the college's account names with it."),
    )
    name_zh = StringField(_l("Name in Chinese"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))
