from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField
from wtforms.validators import DataRequired, NumberRange, Optional

from caretrack.labels import DATA_CLASS
from caretrack.models import DataClass
from caretrack.services.retention import MAX_DAYS


class PolicyForm(FlaskForm):
    """When the emergency ended, the default period, and each data class's own period."""

    version = HiddenField()
    emergency_ended_on = DateField(
        _l("The emergency ended on"), validators=[Optional()],
        description=_l("The last day of the emergency; leave it empty while it goes on."))
    retention_days = IntegerField(
        _l("Days kept after it (default)"), default=90,
        validators=[DataRequired(), NumberRange(min=1, max=MAX_DAYS)])

    def class_fields(self):
        """(data class, its own period's field), in the policy's order."""
        return [(c.value, self[f"days_{c.value}"]) for c in DataClass]

    def version_number(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


for _class in DataClass:
    setattr(PolicyForm, f"days_{_class.value}", IntegerField(
        DATA_CLASS[_class.value], validators=[Optional(), NumberRange(min=1, max=MAX_DAYS)],
        description=_l("Empty: the default period.")))
