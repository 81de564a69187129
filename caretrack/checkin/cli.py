"""flask checkin links / class-links: the check-in links as CSV, for operators and tests."""

import csv
import sys

import click
from sqlalchemy import select, true

from caretrack.access import EVERY_COLLEGE, caseload_filter, counsellor_accounts
from caretrack.checkin import bp
from caretrack.extensions import db
from caretrack.models import User, now_utc
from caretrack.services import checkin


def _condition(username: str | None):
    if not username:
        return true()
    counsellor = db.session.scalars(
        select(User).where(User.username == username, counsellor_accounts(EVERY_COLLEGE))
    ).one_or_none()
    if counsellor is None:
        raise click.ClickException(f"no counsellor {username!r}")
    return caseload_filter(counsellor)


@bp.cli.command("links")
@click.option("--counsellor", "username", help="Only this counsellor's students.")
@click.option("--class", "class_name", help="Only this class.")
def links_command(username: str | None, class_name: str | None) -> None:
    """Print every student's personal check-in link as CSV (empty while revoked)."""
    rows = checkin.personal_links(_condition(username), now_utc(), class_name)
    db.session.commit()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["学号", "姓名", "班级", "链接"])
    writer.writerows((s.student_number, s.name, s.class_name, url or "") for s, url in rows)


@bp.cli.command("class-links")
@click.option("--counsellor", "username", help="Only this counsellor's classes.")
def class_links_command(username: str | None) -> None:
    """Print every class's check-in link as CSV."""
    rows = checkin.class_links(_condition(username), now_utc())
    db.session.commit()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["班级", "链接"])
    writer.writerows(rows)
