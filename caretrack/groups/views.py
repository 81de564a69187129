"""The class groups page: set or remove a class's robot (its address is never shown again),
and the messages sent, the failed ones first."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from caretrack.access import (
    get_own_class_or_404,
    manages_class_groups,
    own_classes_filter,
    requires,
)
from caretrack.groups import bp
from caretrack.models import now_utc
from caretrack.services import channels
from caretrack.services.checkin.links import classes_of
from caretrack.services.errors import RuleError
from caretrack.web import client_address, commit_write, show_rule_error

SERVICE_LABELS = {"wecom": _l("WeCom (企业微信)"), "dingtalk": _l("DingTalk (钉钉)")}
ERROR_LABELS = {
    "rate-limited": _l("the robot's limit of 20 messages a minute"),
    "bad-key": _l("the webhook address is not valid (removed or replaced robot?)"),
    "refused": _l("refused by the group's security settings (keywords, signature, IP)"),
    "timeout": _l("no answer in time"),
    "unreachable": _l("the service could not be reached"),
    "no-robot": _l("the class has no robot any more"),
}


class RobotForm(FlaskForm):
    class_name = SelectField(_l("Class"), validate_choice=False)
    service = SelectField(_l("Service"), choices=[SelectChoice(value, label)
                                                  for value, label in SERVICE_LABELS.items()])
    webhook = StringField(_l("Webhook address"), validators=[DataRequired(), Length(max=500)])
    secret = PasswordField(_l("Signing secret (DingTalk “加签”, optional)"),
                           validators=[Length(max=200)])
    submit = SubmitField(_l("Save the robot"))


class RemoveRobotForm(FlaskForm):
    class_name = HiddenField()
    submit = SubmitField(_l("Remove"))


def _page(form: RobotForm, status: int = 200):
    classes = classes_of(own_classes_filter(current_user))
    form.class_name.choices = [SelectChoice(name, name) for name in classes]
    groups = channels.groups_of(current_user.college_id, classes)
    return render_template(
        "groups/index.html", form=form, classes=classes, groups=groups,
        remove_form=RemoveRobotForm(formdata=None), service_labels=SERVICE_LABELS,
        error_labels=ERROR_LABELS, messages=channels.message_log(current_user),
    ), status


@bp.get("/")
@requires(manages_class_groups)
def index():
    """The counsellor's classes with their robots, and the messages sent to the groups."""
    return _page(RobotForm(formdata=None))


@bp.post("/robot")
@requires(manages_class_groups)
def set_robot():
    """Store (or replace) a class's robot; the address is kept encrypted, never shown again."""
    form = RobotForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    class_name = get_own_class_or_404(form.class_name.data or "", current_user)
    user = current_user._get_current_object()
    try:
        commit_write(lambda: channels.set_group(
            class_name, form.service.data, form.webhook.data, form.secret.data or "", user,
            now_utc(), ip=client_address()))
    except RuleError as error:
        show_rule_error(form, error)
        return _page(form, 422)
    flash(_("The robot of %(class_name)s is saved.", class_name=class_name), "success")
    return redirect(url_for("groups.index"))


@bp.post("/robot/remove")
@requires(manages_class_groups)
def remove_robot():
    """Forget a class's robot."""
    form = RemoveRobotForm()
    class_name = get_own_class_or_404(form.class_name.data or "", current_user)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        commit_write(lambda: channels.remove_group(class_name, user, now_utc(),
                                                   ip=client_address()))
        flash(_("The robot of %(class_name)s is removed.", class_name=class_name), "success")
    return redirect(url_for("groups.index"))
