"""The account page's reminder choices: which of the schedule's reminders the counsellor
gets, by e-mail and in the app."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, SubmitField

from caretrack.access import keeps_caseload, requires
from caretrack.auth import bp
from caretrack.services.reminders import CHANNEL_LABELS, REMINDERS, set_reminders, wants
from caretrack.web import commit_write


class RemindersForm(FlaskForm):
    wanted = SelectMultipleField(validate_choice=True)
    submit = SubmitField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.wanted.choices = [f"{kind}:{channel}" for kind, (_label, channels)
                               in REMINDERS.items() for channel in channels]


def reminder_context(user) -> dict:
    """What the account page's reminder card shows: each reminder, its channels, which are on."""
    if not keeps_caseload(user):
        return {"reminders": None}
    rows = [(kind, label, [(channel, CHANNEL_LABELS[channel], wants(user, kind, channel))
                           for channel in channels])
            for kind, (label, channels) in REMINDERS.items()]
    return {"reminders": rows, "reminders_form": RemindersForm(formdata=None)}


@bp.post("/account/reminders")
@requires(keeps_caseload)
def save_reminders():
    """Keep the reminders the counsellor ticked; turn the others off."""
    form = RemindersForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        commit_write(lambda: set_reminders(user, set(form.wanted.data or [])))
        flash(_("Your reminder settings are saved."), "success")
    return redirect(url_for("auth.account"))
