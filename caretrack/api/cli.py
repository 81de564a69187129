"""``flask api create-token``: a personal access token from the command line (until the
account page offers it)."""

import click
from sqlalchemy import select

from caretrack.api import bp
from caretrack.extensions import db
from caretrack.models import User, now_utc
from caretrack.services.api_tokens import EXPIRY_DAYS, create_token


@bp.cli.command("create-token")
@click.argument("username")
@click.option("--name", default="integration", help="What the token is for.")
@click.option("--scope", type=click.Choice(["read", "read_write"]), default="read")
@click.option("--days", type=click.Choice([str(d) for d in EXPIRY_DAYS]), default="30")
def create_token_command(username, name, scope, days):
    """Create a token for USERNAME and print its secret (shown this once)."""
    user = db.session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        raise click.ClickException(f"no account {username}")
    _token, secret = create_token(user, name=name, scope=scope, days=int(days), now=now_utc())
    db.session.commit()
    click.echo(secret)
