"""The database planner's statistics after bulk writes."""

from sqlalchemy import text

from caretrack.extensions import db

#: The tables a roster import writes (the students) and those the college-wide pages read.
ROSTER_TABLES = ("students",)


def refresh_statistics(*tables: str) -> None:
    """Give PostgreSQL's planner fresh statistics of ``tables`` (every table when none) now,
    rather than when autovacuum next gets to them: after a roster import or a seed, the
    plans of the college-wide pages are chosen for the new size at once. Nothing on SQLite.
    Call it after the bulk write's commit; it commits its own ANALYZE."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text("ANALYZE " + ", ".join(tables)) if tables else text("ANALYZE"))
    db.session.commit()
