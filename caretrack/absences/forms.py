"""Forms to record an absence, end it early, extend it and cancel it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

#: The cover choice that splits the caseload by class.
SPLIT = "split"


class AbsenceForm(FlaskForm):
    """Record an absence: the days, why, and who covers (one colleague, or one per class)."""

    starts_on = DateField(_l("First day away"),
                          validators=[InputRequired(message=_l("Give the first day."))])
    ends_on = DateField(_l("Last day away"),
                        validators=[InputRequired(message=_l("Give the last day."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Say why.")),
                                                     Length(max=2000)],
                           render_kw={"rows": 2})
    #: A colleague's id for the whole caseload, or :data:`SPLIT` (then one per class).
    cover = SelectField(_l("Covered by"), validate_choice=False)


class _ChangeForm(FlaskForm):
    #: The absence's version when the page was shown: a change made meanwhile is a 409.
    version = HiddenField()


class EndEarlyForm(_ChangeForm):
    last_day = DateField(_l("New last day away"),
                         validators=[InputRequired(message=_l("Give the last day."))])


class ExtendForm(_ChangeForm):
    ends_on = DateField(_l("New last day away"),
                        validators=[InputRequired(message=_l("Give the last day."))])


class CancelForm(_ChangeForm):
    pass
