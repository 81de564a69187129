"""flask rechecks digest: the morning email of each counsellor's re-checks (run by cron)."""

import click
from flask.cli import AppGroup

from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services.clock import local_today
from caretrack.services.digest import digests, send_digest

rechecks_cli = AppGroup("rechecks", help="Re-check reminders.")


@rechecks_cli.command("digest")
@click.option(
    "--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The college's day to send for (YYYY-MM-DD); default: today.",
)
def digest_command(day):
    """Email each counsellor their overdue and due-today re-checks; once per counsellor a day."""
    day = day.date() if day else local_today(now_utc())
    sent = already = skipped = failed = 0
    for digest in digests(day):
        counsellor = digest.counsellor
        if not counsellor.email:
            click.echo(f"{counsellor.username}: no email address, skipped", err=True)
            skipped += 1
            continue
        try:
            was_sent = send_digest(digest, day)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - report, go on with the next counsellor
            db.session.rollback()
            click.echo(f"{counsellor.username}: not sent ({exc})", err=True)
            failed += 1
            continue
        if was_sent:
            sent += 1
            click.echo(f"{counsellor.username}: {len(digest.overdue)} overdue, "
                       f"{len(digest.due_today)} due today")
        else:
            already += 1
    click.echo(f"Re-check digest for {day.isoformat()}: {sent} sent, {already} sent before, "
               f"{skipped} without an address, {failed} failed.")
    if failed:
        raise click.exceptions.Exit(1)
