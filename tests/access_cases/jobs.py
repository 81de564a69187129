"""Jobs (imports, exports, long work): every account has its own; another's is a 404. And the
counsellor's choice of the reminders the schedule sends."""

from datetime import timedelta

from caretrack.extensions import db
from caretrack.models import Job, JobState, StoredFile, now_utc
from tests.access_cases import ROLES, Case


def _job(owner, with_file: bool = False) -> Job:
    now = now_utc()
    job = Job(owner_id=owner.id, kind="roster.import", state=JobState.DONE, total=3, done=3,
              result={"created": 3, "updated": 0, "unchanged": 0}, finished_at=now)
    if with_file:
        job.file = StoredFile(token=f"t{owner.id}-{now.timestamp()}", owner_id=owner.id,
                              purpose="export", filename="export.csv", content_type="text/csv",
                              data=b"a,b\n", size=4, expires_at=now + timedelta(days=1))
    db.session.add(job)
    db.session.flush()
    return job


def job_args(with_file: bool = False):
    """The role's own job, and another account's."""
    def args(world, role):
        own = _job(world.user(role), with_file)
        other_owner = world.college.other_counsellor if role != "counsellor" else (
            world.college.deputy)
        others = _job(other_owner, with_file)
        db.session.commit()
        return {"job": own.id}, {"job": others.id}
    return args


CASES = {
    "jobs.index": Case("/jobs/", set(ROLES)),
    "jobs.show": Case("/jobs/{job}", set(ROLES), args=job_args()),
    "jobs.status": Case("/jobs/{job}/status", set(ROLES), args=job_args()),
    "jobs.download": Case("/jobs/{job}/download", set(ROLES), args=job_args(with_file=True)),
    # the schedule's reminders are a counsellor's to choose
    "auth.save_reminders": Case("/account/reminders", {"counsellor"}, method="POST",
                                data={"wanted": "digest:email"}, ok=(302,)),
}
