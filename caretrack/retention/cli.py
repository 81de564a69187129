"""flask retention purge: delete what the retention policy says is due."""

import click
from flask.cli import AppGroup

from caretrack.models import DataClass, now_utc
from caretrack.services.retention import purge

retention_cli = AppGroup("retention", help="The retention policy.")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what is due; delete nothing.")
def purge_command(dry_run):
    """Delete (or empty) what the retention policy says is due today, in short transactions;
    a second run deletes nothing more."""
    result = purge(now_utc(), dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    for data_class in DataClass:
        click.echo(f"{data_class.value:<18} {verb} {result.counts[data_class.value]}")
    click.echo(f"{'total':<18} {verb} {result.total}")
    if not dry_run:
        click.echo(f"{result.transactions} transactions, the longest "
                   f"{result.longest_transaction * 1000:.0f} ms; {result.kept_days} days' "
                   "numbers kept")
