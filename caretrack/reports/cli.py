"""flask reports send: email the college's daily report to its recipients; flask daily
rebuild-tallies: count the kept numbers of the days again."""

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.models import College, now_utc
from caretrack.services.clock import local_today
from caretrack.services.daily.college import send_college_report
from caretrack.services.errors import RuleError

reports_cli = AppGroup("reports", help="The college's daily report.")


def _send_university(day: date, now) -> None:
    from caretrack.services.daily.university import (
        notify_missing_colleges,
        send_university_report,
    )

    recipients = current_app.config["UNIVERSITY_REPORT_RECIPIENTS"]
    if not recipients:
        raise click.ClickException(
            "no recipients: set CARETRACK_UNIVERSITY_REPORT_RECIPIENTS")
    with force_locale(current_app.config["CARETRACK_LOCALE"]):
        try:
            sent = send_university_report(day, now, recipients)
        except RuleError as exc:
            missing = notify_missing_colleges(day, now)
            db.session.commit()
            told = f"; their secretaries were told: {', '.join(c.code for c in missing)}" \
                if missing else ""
            raise click.ClickException(
                f"the university report of {day.isoformat()} is not ready: not every "
                f"college's last stage approved{told}") from exc
    db.session.commit()
    click.echo(f"University report of {day.isoformat()} sent to {', '.join(sent)}."
               if sent else f"University report of {day.isoformat()} was sent already.")


@reports_cli.command("send")
@click.option("--university", is_flag=True,
              help="Send the university report (every college signed off) to "
                   "UNIVERSITY_REPORT_RECIPIENTS; past the university's deadline, tell the "
                   "secretaries of the colleges still missing.")
@click.option("--college", "code", default=None,
              help="The college's code; needed when the install has more than one college.")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Day of the report (YYYY-MM-DD); default: today in the college's timezone.")
def send_command(university, code, day):
    """Email the college's report of the day (once every report is approved) to
    REPORT_RECIPIENTS, or (``--university``) the university report; a recipient who got it
    already gets nothing new."""
    now = now_utc()
    day: date = day.date() if day else local_today(now)
    if university:
        return _send_university(day, now)
    recipients = current_app.config["REPORT_RECIPIENTS"]
    if not recipients:
        raise click.ClickException("no recipients: set CARETRACK_REPORT_RECIPIENTS")
    colleges = db.session.scalars(
        select(College).where(College.code == code) if code else select(College)).all()
    if len(colleges) != 1:
        raise click.ClickException(
            f"no college {code!r}" if code else "more than one college: give --college CODE")
    with force_locale(current_app.config["CARETRACK_LOCALE"]):
        try:
            sent = send_college_report(day, now, colleges[0], recipients)
        except RuleError as exc:
            raise click.ClickException(
                f"the college report of {day.isoformat()} is not ready: not every counsellor's "
                "report is approved"
            ) from exc
    db.session.commit()
    if sent:
        click.echo(f"College report of {day.isoformat()} sent to {', '.join(sent)}.")
    else:
        click.echo(f"College report of {day.isoformat()} was sent already; nothing new to send.")


daily_cli = AppGroup("daily", help="The day's statuses and the numbers kept of them.")


@daily_cli.command("rebuild-tallies")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The last day to count (YYYY-MM-DD); default: today in the college's "
                   "timezone.")
@click.option("--days", type=click.IntRange(1, 366), default=1, show_default=True,
              help="How many days, back from --date.")
def rebuild_tallies_command(day, days):
    """Count each counsellor's numbers of the days again from the statuses, into the rows
    the board and the dashboard read; say whether the kept rows agreed (exit 1 if not)."""
    from datetime import timedelta

    from caretrack.services.daily import tallies

    today = local_today(now_utc())
    last: date = day.date() if day else today
    if last > today:
        raise click.ClickException("the days to count end today at the latest: a later day "
                                   "has no status yet")
    differed = []
    for back in range(days - 1, -1, -1):
        current = last - timedelta(days=back)
        if not tallies.rebuild(current):
            differed.append(current.isoformat())
        db.session.commit()
    click.echo(f"Counted {days} day(s) up to {last.isoformat()}: "
               + (f"the kept numbers differed on {', '.join(differed)} (now corrected)."
                  if differed else "the kept numbers agreed."))
    if differed:
        raise SystemExit(1)
