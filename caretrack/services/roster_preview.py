"""The roster import's preview as a job: read and check a kept upload outside the request, and
keep what the preview page shows in the job's result.

The job ("roster.preview") reads the file (stage "reading") and checks every row (stage
"checking") with :func:`caretrack.services.roster_import.check_roster`; its result holds the
preview as the page shows it – the counts, and the first :data:`SHOWN` rows of each list – in
the interface language of the admin who uploaded it. A file that cannot be imported at all is
the job's verdict, not its failure: the result says why (``refused``), the refusal is audited
and the upload deleted with it. The confirmation (the job "roster.import") checks the file
again against the preview's fingerprint.
"""

from dataclasses import asdict, dataclass, field

from flask_babel import force_locale
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.jobs import JobError, Progress, task
from caretrack.models import Job, JobState, User, now_utc
from caretrack.services.roster_columns import RosterFileError, read_roster
from caretrack.services.roster_import import RosterPreview, check_roster
from caretrack.services.uploads import discard_upload, load_upload, record_refused_upload

#: Rows of each list (creates, updates, errors, ...) the preview page shows.
SHOWN = 200
#: The user's latest jobs looked through for an upload's preview.
LOOKBACK = 50


@dataclass
class PreviewPage:
    """What the preview page shows of a :class:`RosterPreview`: the counts, and the first
    :data:`SHOWN` rows of each list (each row a dict of what the page shows of it)."""

    filename: str
    rows: int
    creates: list[dict] = field(default_factory=list)
    create_count: int = 0
    updates: list[dict] = field(default_factory=list)
    update_count: int = 0
    unchanged: int = 0
    not_in_file: int = 0
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    matched: list[dict] = field(default_factory=list)
    matched_count: int = 0
    warnings: list[dict] = field(default_factory=list)
    warning_count: int = 0
    duplicates: list[dict] = field(default_factory=list)
    duplicate_count: int = 0
    sheet: str = ""
    sheet_names: list[str] = field(default_factory=list)
    header_row: int = 1
    skipped: list[dict] = field(default_factory=list)
    skipped_count: int = 0
    fingerprint: str = ""
    #: "Display name (username)" of the accounts the shown new students go to, by id.
    accounts: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def has_changes(self) -> bool:
        return bool(self.create_count or self.update_count)

    @classmethod
    def of(cls, preview: RosterPreview) -> "PreviewPage":
        """Keep what the page shows of ``preview``."""
        def rows_of(errors):
            return [{"row": e.row, "letter": e.letter, "column": e.column,
                     "message": str(e.message)} for e in errors[:SHOWN]]

        creates = [{"row": new.row} | {
            name: new.values.get(name) for name in
            ("student_number", "name", "programme", "cohort", "class_name", "counsellor_id")}
            for new in preview.creates[:SHOWN]]
        shown_accounts = {new["counsellor_id"] for new in creates}
        return cls(
            filename=preview.filename, rows=preview.rows,
            creates=creates, create_count=len(preview.creates),
            updates=[{"row": u.row, "student_number": u.student_number, "name": u.name,
                      "changes": [{"label": c.label, "old": c.old, "new": c.new}
                                  for c in u.changes]}
                     for u in preview.updates[:SHOWN]],
            update_count=len(preview.updates),
            unchanged=preview.unchanged, not_in_file=preview.not_in_file,
            errors=rows_of(preview.errors), error_count=len(preview.errors),
            matched=rows_of(preview.matched), matched_count=len(preview.matched),
            warnings=rows_of(preview.warnings), warning_count=len(preview.warnings),
            duplicates=[{"reason": d.reason, "members": [asdict(m) for m in d.members]}
                        for d in preview.duplicates[:SHOWN]],
            duplicate_count=len(preview.duplicates),
            sheet=preview.sheet, sheet_names=list(preview.sheet_names),
            header_row=preview.header_row,
            skipped=[{"row": s.row, "reason": s.reason} for s in preview.skipped[:SHOWN]],
            skipped_count=len(preview.skipped),
            fingerprint=preview.fingerprint,
            accounts={i: name for i, name in preview.accounts.items() if i in shown_accounts},
        )

    def to_json(self) -> dict:
        return {**asdict(self), "accounts": {str(i): n for i, n in self.accounts.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "PreviewPage":
        return cls(**{**data, "accounts": {int(i): n for i, n in data["accounts"].items()}})


def preview_params(token: str, sheet: str | None, locale: str, ip: str = "") -> dict:
    """The parameters of the job that previews the upload ``token`` (its ``sheet``, or the
    first), in the interface language ``locale``."""
    return {"token": token, "sheet": sheet or None, "locale": locale, "ip": ip}


def current_preview(user: User, token: str, sheet: str | None, locale: str) -> Job | None:
    """Return ``user``'s latest preview job of the upload ``token`` (its ``sheet``, in
    ``locale``) that still holds: none failed, none since which an import of the upload was
    tried (it found the roster changed, or is under way). None: a new preview is needed."""
    jobs = db.session.scalars(
        select(Job).where(Job.owner_id == user.id,
                          Job.kind.in_(("roster.preview", "roster.import")))
        .order_by(Job.id.desc()).limit(LOOKBACK))
    for job in jobs:
        params = job.params or {}
        if params.get("token") != token:
            continue
        if job.kind == "roster.import":
            return None
        if (params.get("sheet") == (sheet or None) and params.get("locale") == locale
                and job.state != JobState.FAILED):
            return job
    return None


def preview_of(job: Job) -> PreviewPage | None:
    """The preview a finished preview job kept (None: the file was refused)."""
    kept = (job.result or {}).get("preview")
    return PreviewPage.from_json(kept) if kept else None


def refusal_of(job: Job) -> dict | None:
    """Why a finished preview job found the file impossible to import: ``message``,
    ``expected`` (columns), ``status`` (400 unreadable, 422 unusable), ``sheet``."""
    return (job.result or {}).get("refused")


@task("roster.preview", max_attempts=3)
def preview_roster_job(job: Job, params: dict, progress: Progress) -> dict:
    """Read and check a kept upload, writing nothing but the verdict: the preview the page
    shows, or why the file cannot be imported (then audited, and the upload deleted – unless
    only the sheet asked for is wrong). Safe to retry.

    ``params``: ``token`` (the kept upload), ``sheet`` (None: the first), ``locale``, ``ip``.

    :raise JobError: "upload-gone".
    """
    user = job.owner
    upload = load_upload(user, params.get("token", "")) if user is not None else None
    if upload is None:
        raise JobError("upload-gone")
    sheet = params.get("sheet")
    with force_locale(params.get("locale") or "zh_Hans_CN"):
        progress.start(0, stage="reading")
        try:
            read = read_roster(upload.filename, upload.data, sheet)
        except RosterFileError as exc:
            if sheet is None:  # the file itself cannot be imported
                record_refused_upload(user, "roster", upload.filename,
                                      f"{exc.status} {exc.message}", now=now_utc(),
                                      ip=params.get("ip", ""))
                discard_upload(user, upload.token)
            return {"refused": {"message": str(exc.message), "expected": list(exc.expected),
                                "status": exc.status, "sheet": sheet}}
        progress.start(len(read.rows), stage="checking")
        preview = check_roster(upload.filename, read, progress, college=user.college_id)
        return {"token": upload.token, "preview": PreviewPage.of(preview).to_json()}
