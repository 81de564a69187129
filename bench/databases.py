"""What every benchmark needs around its data: an app on a given database, a PostgreSQL
database of its own (created for the run and dropped after), and rows inserted in bulk."""

import os
import time

import sqlalchemy

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
#: Rows per INSERT statement.
ROWS_PER_STATEMENT = 1000


def make_app(url: str, **settings):
    """The app in its testing configuration on the database at ``url``."""
    from caretrack import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, **settings)


def create_pg_database(server: str, purpose: str, template: str = "") -> tuple[str, str]:
    """Create a new database on ``server``, empty or a copy of the database ``template`` (no
    one may be connected to it); return (its URL, its name).

    Its name starts with $BENCH_PG_PREFIX (default "caretrack"), then the purpose.
    """
    prefix = os.environ.get("BENCH_PG_PREFIX", "caretrack")
    name = f"{prefix}_{purpose}_{os.getpid()}_{int(time.time())}"
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"{copy}'))
    engine.dispose()
    return f"{server}/{name}", name


def drop_pg_database(server: str, name: str) -> None:
    """Drop a benchmark's database, whoever is still connected to it."""
    engine = sqlalchemy.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def insert_rows(table, rows: list[dict]) -> None:
    """Insert ``rows`` into ``table`` (a Table or a model) in statements of 1,000 rows."""
    from caretrack.extensions import db

    table = getattr(table, "__table__", table)
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        db.session.execute(table.insert(), rows[start:start + ROWS_PER_STATEMENT])


def server_tracebacks(log_path) -> bool:
    """Print how many tracebacks the server's log holds and the last one; return whether it
    held any (a run with a traceback fails, whatever its figures)."""
    from pathlib import Path

    log = Path(log_path).read_text()
    if "Traceback" not in log:
        return False
    print(f"\nthe server logged {log.count('Traceback')} tracebacks; the last:\n"
          + log[log.rfind("Traceback"):][:3000])
    return True
