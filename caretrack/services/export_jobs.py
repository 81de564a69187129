"""Large exports as jobs: a list of more than :data:`JOB_THRESHOLD` rows is written by a job
("exports.list") into a file kept in the database for a day, downloaded from the job's page
and the user's imports and exports; a smaller one is written in the request.

A list that can be exported as a job registers how to build it for a user – its columns, its
rows (loaded with the same visibility filter and query as the page) and its title – from the
page's query arguments::

    @export_source("caseload")
    def caseload_export(user, args):
        query = caseload_query(user, CaseloadFilters.from_args(args))
        return ExportSource(COLUMNS, db.session.scalars(query).all(), _("Student list"))

The job records the same "export" audit event as the export in the request, with the
request's address.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from caretrack.jobs import JobError, Progress, submit, task
from caretrack.models import Job, User, now_utc
from caretrack.services.exports import ExportColumn, export_list
from caretrack.services.uploads import DOWNLOAD_MAX_AGE, keep_file

#: Rows beyond which an export is a job.
JOB_THRESHOLD = 5000
#: What a finished export is kept as.
EXPORT_FILE = "export"


@dataclass(frozen=True)
class ExportSource:
    """What an export writes: its columns, its rows, and its translated title."""

    columns: Sequence[ExportColumn]
    items: Sequence[Any]
    title: str


ExportBuilder = Callable[[User, MultiDict], ExportSource]
EXPORT_SOURCES: dict[str, ExportBuilder] = {}


def export_source(name: str):
    """Register ``builder(user, args) -> ExportSource`` as the list ``name``'s export."""

    def register(builder: ExportBuilder) -> ExportBuilder:
        EXPORT_SOURCES[name] = builder
        return builder

    return register


def is_large(rows: int) -> bool:
    """Whether an export of ``rows`` rows is written by a job."""
    return rows > JOB_THRESHOLD


def submit_export(list_name: str, fmt: str, user: User, args: MultiDict, *, rows: int,
                  locale: str, ip: str = "") -> Job:
    """Submit the export of ``list_name`` as ``fmt`` with the page's query ``args``."""
    return submit("exports.list", user, {
        "list": list_name, "format": fmt, "args": args.to_dict(flat=False), "locale": locale,
        "ip": ip}, total=rows)


@task("exports.list", max_attempts=3)
def export_list_job(job: Job, params: dict, progress: Progress) -> dict:
    """Write a list's export for the job's owner and keep the file for a day, with its audit
    event. Safe to retry: a run that stopped kept nothing.

    ``params``: ``list`` (a name of :data:`EXPORT_SOURCES`), ``format`` (xlsx, csv),
    ``args`` (the page's query arguments), ``locale``, ``ip``.

    :raise JobError: "unknown-task" (no such list).
    """
    builder = EXPORT_SOURCES.get(params.get("list", ""))
    if builder is None or job.owner is None:
        raise JobError("unknown-task")
    now = now_utc()
    with force_locale(params.get("locale") or "zh_Hans_CN"):
        progress.start(0, stage="reading")
        source = builder(job.owner, MultiDict(params.get("args") or {}))
        progress.start(len(source.items), stage="writing")
        file = export_list(params["list"], params.get("format", "xlsx"), source.columns,
                           source.items, job.owner, title=source.title, now=now,
                           ip=params.get("ip", ""), progress=progress)
    kept = keep_file(job.owner, EXPORT_FILE, file.filename, file.body, now,
                     expires_at=now + DOWNLOAD_MAX_AGE, content_type=file.mimetype)
    return {"file_id": kept.id, "rows": len(source.items), "filename": file.filename}
