"""flask commands: seed-demo, create-user, import-students, and the re-check, report and
retention groups."""

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import Student, User
from caretrack.rechecks.cli import rechecks_cli
from caretrack.reports.cli import daily_cli, reports_cli
from caretrack.retention.cli import retention_cli
from caretrack.roster_cli import import_students_command
from caretrack.services.statistics import refresh_statistics
from caretrack.work.cli import jobs_cli


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(seed_demo_if_empty_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(import_students_command)
    app.cli.add_command(rechecks_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(daily_cli)


def _refuse_in_production() -> None:
    if current_app.config["CARETRACK_CONFIG_NAME"] == "production":
        raise click.ClickException("seed-demo refuses to run in production")


def _print_accounts() -> None:
    from caretrack.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for username, what in DEMO_ACCOUNTS:
        click.echo(f"  {username:<38} {what}")


@click.command("seed-demo")
def seed_demo_command():
    """Load the demo's colleges into an empty database."""
    from caretrack.demo import DemoRefused, seed_demo

    _refuse_in_production()
    try:
        summary = seed_demo()
    except DemoRefused as exc:
        raise click.ClickException(f"seed-demo: {exc}") from exc
    db.session.commit()
    refresh_statistics()
    click.echo(
        f"Demo loaded: {summary.colleges} colleges, {summary.students} students, "
        f"{summary.counsellors} counsellors, {summary.supervisors} supervisors."
    )
    _print_accounts()


@click.command("seed-demo-if-empty")
def seed_demo_if_empty_command():
    """Load the demo's colleges unless the database has data already (used by `make run`)."""
    _refuse_in_production()
    has_data = db.session.scalar(select(func.count(User.id))) or db.session.scalar(
        select(func.count(Student.id))
    )
    if not has_data:
        seed_demo_command.callback()
    else:
        _print_accounts()


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option(
    "--role", type=click.Choice(["counsellor", "supervisor", "deputy_secretary", "admin",
                                 "university_admin"]),
    required=True,
)
@click.option("--college", "code", default=None,
              help="The college's code (default: the only college; an install without one "
                   "gets the default college).")
@click.password_option()
def create_user_command(username, display_name, role, code, password):
    """Create an account (e.g. the first admin of a production install)."""
    from caretrack.messages import message
    from caretrack.models import UNIVERSITY_ROLES
    from caretrack.services.colleges import college_of_cli
    from caretrack.services.errors import RuleError
    from caretrack.services.passwords import check_new_password
    from caretrack.services.users import create_user

    try:
        check_new_password(password, field="password", username=username)
        try:
            college = None if role in UNIVERSITY_ROLES else college_of_cli(code)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        create_user(username, display_name, role, password, college=college)
    except RuleError as exc:
        raise click.ClickException(str(message(exc.code, **exc.values))) from exc
    db.session.commit()
    click.echo(f"Created {role} {username}.")
