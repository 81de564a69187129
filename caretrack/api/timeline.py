"""A student's timeline: its entries a page at a time, and new follow-ups, supply deliveries
and notes through the same services as the forms (so re-checks are scheduled the same way);
the Idempotency-Key header is the form's submission key."""

from flask.views import MethodView
from flask_login import current_user

from caretrack.access import (
    can_read_cases,
    entry_filter,
    get_recordable_student_or_404,
    get_student_or_404,
    requires,
)
from caretrack.api import bp
from caretrack.api.pages import READ_ERRORS, WRITE_ERRORS, documented, page_of
from caretrack.api.schemas import (
    DeliveryInput,
    EntryPageSchema,
    EntrySchema,
    FollowUpInput,
    IdempotencyHeader,
    NoteInput,
    TimelineArgs,
)
from caretrack.services import entries, rechecks, student_page
from caretrack.services.timeline import entries_query, find_submission
from caretrack.web import client_address, commit_write


def submission_key(headers: dict) -> str | None:
    """The caller's Idempotency-Key as a submission key of its own (keys of different users
    never collide)."""
    key = headers.get("idempotency_key")
    return f"api:{current_user.id}:{key}" if key else None


def written(change, key: str | None):
    """Commit one service verb: 201 with the new entry, or 200 with the entry the same
    Idempotency-Key recorded before."""
    result = commit_write(change, submission_key=key)
    if result.duplicate:
        return find_submission(key), 200
    return result.result, 201


@bp.route("/students/<int:student_id>/timeline")
class Timeline(MethodView):
    @bp.arguments(TimelineArgs, location="query")
    @bp.response(200, EntryPageSchema)
    @documented(*READ_ERRORS)
    @requires(can_read_cases)
    def get(self, args, student_id: int):
        """The student's timeline entries, newest first (a supervisor: the entries of the
        referrals made to them); audited as a view of the student's record."""
        student = get_student_or_404(student_id, current_user)
        commit_write(lambda: student_page.record_view(
            student, current_user, ip=client_address(), action="api.student.view"))
        query = entries_query(student, args.get("kind"), entry_filter(current_user))
        items, page = page_of(query, args, "api.Timeline", student_id=student.id)
        return {**page, "student": student, "items": items}


def _entry_endpoint(name: str, schema, record, doc: str):
    @bp.arguments(schema)
    @bp.arguments(IdempotencyHeader, location="headers")
    @bp.response(201, EntrySchema)
    @bp.alt_response(200, schema=EntrySchema, description="recorded before with this key")
    @documented(*WRITE_ERRORS)
    def post(self, data, headers, student_id: int):
        student = get_recordable_student_or_404(student_id, current_user)
        key = submission_key(headers)
        return written(lambda: record(student, data, key), key)

    post.__doc__ = doc
    return bp.route(f"/students/<int:student_id>/{name}")(
        type(f"{name.title().replace('-', '')}", (MethodView,), {"post": post}))


def _follow_up(student, data, key):
    reached = data["reached"]
    if "check_again_in_days" in data:
        days = data["check_again_in_days"]
    else:  # as the form pre-fills it
        days = rechecks.suggested_interval(rechecks.active_categories_of(student),
                                           reached=reached)
    return entries.record_follow_up(
        student, current_user, channel=data["channel"], reached=reached,
        health=data["health"], body=data["body"], occurred_at=data.get("occurred_at"),
        check_again_in_days=days, ip=client_address(), submission_key=key)


def _delivery(student, data, key):
    return entries.record_delivery(
        student, current_user, items=[(i["name"], i["quantity"], i["unit"]) for i in data["items"]],
        place=data["place"], place_detail=data["place_detail"], received=data["received"],
        delivered_by=data["delivered_by"], body=data["body"],
        occurred_at=data.get("occurred_at"), ip=client_address(), submission_key=key)


def _note(student, data, key):
    return entries.record_note(student, current_user, body=data["body"], ip=client_address(),
                               submission_key=key)


FollowUps = _entry_endpoint(
    "follow-ups", FollowUpInput, _follow_up,
    "Record a follow-up (the student's counsellor): completes the re-checks due and "
    "schedules the next one, as the form does.")
Deliveries = _entry_endpoint(
    "deliveries", DeliveryInput, _delivery, "Record a supply delivery (the student's "
    "counsellor).")
Notes = _entry_endpoint("notes", NoteInput, _note, "Add a note (the student's counsellor).")
