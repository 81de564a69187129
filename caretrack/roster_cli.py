"""flask import-students FILE [--dry-run]: the roster import from the command line."""

from pathlib import Path

import click
from flask_babel import gettext as _

from caretrack.extensions import db
from caretrack.models import now_utc
from caretrack.services.roster_columns import RosterFileError, read_roster
from caretrack.services.roster_import import RosterPreview, apply_import, check_roster
from caretrack.services.statistics import ROSTER_TABLES, refresh_statistics


def report_lines(preview: RosterPreview, limit: int = 200) -> list[str]:
    """Return the preview as lines of text (the CLI's report)."""
    lines = [
        _("File: %(name)s, %(rows)d rows.", name=preview.filename, rows=preview.rows),
        _("To create: %(num)d", num=len(preview.creates)),
        _("To update: %(num)d", num=len(preview.updates)),
        _("Unchanged: %(num)d", num=preview.unchanged),
        _("Errors: %(num)d", num=len(preview.errors)),
    ]
    if preview.not_in_file:
        lines.append(_("Students in CareTrack but not in the file (left as they are): %(num)d",
                       num=preview.not_in_file))
    if preview.errors:
        lines.append("")
        lines.append(_("Errors (nothing is imported until they are fixed):"))
        for error in preview.errors[:limit]:
            lines.append("  " + _("Row %(row)d, column %(letter)s (%(column)s): %(message)s",
                                  row=error.row, letter=error.letter, column=error.column,
                                  message=error.message))
        if len(preview.errors) > limit:
            lines.append("  " + _("… and %(num)d more.", num=len(preview.errors) - limit))
    if preview.updates:
        lines.append("")
        lines.append(_("Updates:"))
        for change in preview.updates[:limit]:
            fields = _("; ").join(
                _("%(label)s: %(old)s → %(new)s", label=c.label, old=c.old, new=c.new)
                for c in change.changes
            )
            lines.append("  " + _("Row %(row)d, %(number)s %(name)s: %(fields)s",
                                  row=change.row, number=change.student_number,
                                  name=change.name, fields=fields))
        if len(preview.updates) > limit:
            lines.append("  " + _("… and %(num)d more.", num=len(preview.updates) - limit))
    return lines


@click.command("import-students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and print the report; write nothing.")
@click.option("--college", "code", default=None,
              help="The college's code (default: the only college).")
def import_students_command(file: Path, dry_run: bool, code: str | None):
    """Create and update students of a college from a roster file (XLSX or CSV, Chinese or
    English headers)."""
    from caretrack.services.colleges import college_of_cli

    try:
        college = college_of_cli(code)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        sheet = read_roster(file.name, file.read_bytes())
    except RosterFileError as exc:
        lines = [exc.message]
        if exc.expected:
            lines += [_("Expected columns:"), *("  " + c for c in exc.expected)]
        raise click.ClickException("\n".join(lines)) from exc
    with click.progressbar(length=len(sheet.rows), label=_("Checking rows")) as bar:
        preview = check_roster(file.name, sheet, progress=bar.update, college=college)
    for line in report_lines(preview):
        click.echo(line)
    if preview.errors:
        raise click.ClickException(_("Nothing was imported: fix the errors and run it again."))
    if dry_run:
        click.echo(_("Dry run: nothing was written."))
        return
    if not preview.has_changes:
        click.echo(_("Nothing to import: the roster already matches the file."))
        return
    with click.progressbar(
        length=len(preview.creates) + len(preview.updates), label=_("Writing")
    ) as bar:
        try:
            result = apply_import(preview, None, now_utc(), progress=bar.update)
        except Exception:
            db.session.rollback()
            raise
    db.session.commit()
    refresh_statistics(*ROSTER_TABLES)
    click.echo(_("Roster imported: %(created)d students created, %(updated)d updated, "
                 "%(unchanged)d unchanged.", created=result.created, updated=result.updated,
                 unchanged=result.unchanged))
