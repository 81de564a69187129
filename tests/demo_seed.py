"""Seed the demo college into a template database, in a process of its own.

The test session starts this as soon as it knows that some selected test needs the demo
(``tests/conftest.py``), so the ~minute of seeding runs beside the tests that don't need it,
instead of before them. Run as::

    python -m tests.demo_seed DATABASE_URL RESULT.json LOG

It prints the process id of the seeder and returns at once: the seeder runs on, detached,
writing to ``LOG``. It migrates the empty database from the migrations, runs ``flask seed-demo`` and writes what
the command printed, its exit code and when it ran to ``RESULT.json`` (atomically: the file
appears complete or not at all).
"""

import json
import os
import resource
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from caretrack import create_app
from caretrack.extensions import db

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"


def _recreate_postgres_database(url: str) -> None:
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def seed(url: str) -> dict:
    if make_url(url).get_backend_name() == "postgresql":
        _recreate_postgres_database(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        now = datetime.now(UTC)
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        db.session.remove()
        db.engine.dispose()
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"output": output, "exit_code": result.exit_code, "now": now.isoformat(),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}


def main(url: str, result_path: str, log_path: str) -> int:
    child = os.fork()
    if child:
        print(child, flush=True)
        return 0
    os.setsid()
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        outcome = seed(url)
    except Exception:  # reported to the waiting tests, which fail with it
        outcome = {"output": traceback.format_exc(), "exit_code": 1,
                   "now": datetime.now(UTC).isoformat()}
    partial = f"{result_path}.partial"
    Path(partial).write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(partial, result_path)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
