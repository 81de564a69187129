"""Referrals: the caller's referrals (the supervisor's inbox), and their steps, with 409 for a
step on a referral that changed meanwhile."""

from flask.views import MethodView
from flask_login import current_user

from caretrack.access import can_read_cases, get_referral_or_404, requires
from caretrack.api import bp
from caretrack.api.pages import READ_ERRORS, WRITE_ERRORS, documented, page_of
from caretrack.api.schemas import (
    EntrySchema,
    IdempotencyHeader,
    ReferralListArgs,
    ReferralPageSchema,
    ReferralStepInput,
)
from caretrack.api.timeline import submission_key, written
from caretrack.models import Referral
from caretrack.services.errors import RuleError
from caretrack.services.referral_inbox import inbox_query
from caretrack.services.referrals import ReferralStep, take_step
from caretrack.web import client_address


def referral_fields(referral: Referral) -> dict:
    return {
        "id": referral.id, "student_id": referral.student_id,
        "student_number": referral.student.student_number,
        "student_name": referral.student.name, "referred_by": referral.referred_by,
        "supervisor": referral.supervisor, "reason": referral.reason,
        "urgency": referral.urgency, "state": referral.state, "version": referral.version_id,
        "created_at": referral.created_at, "updated_at": referral.updated_at,
    }


@bp.route("/referrals")
class Referrals(MethodView):
    @bp.arguments(ReferralListArgs, location="query")
    @bp.response(200, ReferralPageSchema)
    @documented(*READ_ERRORS)
    @requires(can_read_cases)
    def get(self, args):
        """The referrals the caller may see: a supervisor's inbox (active and urgent first),
        a counsellor's referrals of their students, the deputy's of the college."""
        query = inbox_query(current_user, state=args.get("state", ""))
        items, page = page_of(query, args, "api.Referrals")
        return {**page, "items": [referral_fields(r) for r in items]}


@bp.route("/referrals/<int:referral_id>/steps")
class ReferralSteps(MethodView):
    @bp.arguments(ReferralStepInput)
    @bp.arguments(IdempotencyHeader, location="headers")
    @bp.response(201, EntrySchema)
    @bp.alt_response(200, schema=EntrySchema, description="recorded before with this key")
    @documented(*WRITE_ERRORS)
    @requires(can_read_cases)
    def post(self, data, headers, referral_id: int):
        """Take a step of the referral (the supervisor: accepted, declined, responded, done;
        the referring counsellor or the deputy: revoked). ``version`` is the referral's as
        last read: a referral changed meanwhile answers 409."""
        referral = get_referral_or_404(referral_id, current_user)
        key = submission_key(headers)

        def step():
            if data["version"] != referral.version_id:
                raise RuleError("referral-stale", "version", conflict=True)
            return take_step(referral, current_user, ReferralStep(data["step"]),
                             text=data["text"], ip=client_address(), submission_key=key)

        return written(step, key)
