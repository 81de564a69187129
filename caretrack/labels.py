"""Translatable labels for the domain's coded values."""

from flask import g, has_app_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from caretrack.models import (
    Audience,
    ConcernLevel,
    DataClass,
    EntryKind,
    Gender,
    Health,
    Leaving,
    Programme,
    RecheckOrigin,
    RecheckState,
    ReferralState,
    ReportState,
    ReturnReason,
    ReturnState,
    Role,
    Stage,
    StatusTrigger,
    Urgency,
)

ROLE = {
    Role.COUNSELLOR: _l("Counsellor"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.DEPUTY_SECRETARY: _l("Deputy secretary"),
    Role.ADMIN: _l("Administrator"),
    Role.UNIVERSITY_ADMIN: _l("University administrator"),
    Role.UNIVERSITY_OFFICE: _l("University prevention office"),
    Role.LEAGUE_SECRETARY: _l("League secretary"),
    Role.SECRETARY: _l("Secretary"),
}
PROGRAMME = {
    Programme.UNDERGRADUATE: _l("Undergraduate"),
    Programme.MASTER: _l("Master's"),
    Programme.PHD: _l("PhD"),
    Programme.MBA_FULL_TIME: _l("Full-time MBA"),
    Programme.MBA_PART_TIME: _l("Part-time MBA"),
}
GENDER = {Gender.MALE: _l("Male"), Gender.FEMALE: _l("Female")}
CONCERN = {
    ConcernLevel.NORMAL: _l("Normal"),
    ConcernLevel.ELEVATED: _l("Elevated"),
    ConcernLevel.HIGH: _l("High"),
}
CONCERN_BADGE = {
    ConcernLevel.NORMAL: "text-bg-secondary",
    ConcernLevel.ELEVATED: "text-bg-warning",
    ConcernLevel.HIGH: "text-bg-danger",
}
ENTRY_KIND = {
    EntryKind.FOLLOW_UP: _l("Follow-up"),
    EntryKind.DELIVERY: _l("Supply delivery"),
    EntryKind.REFERRAL: _l("Supervisor referral"),
    EntryKind.REFERRAL_STEP: _l("Referral step"),
    EntryKind.NOTE: _l("Note"),
    EntryKind.CATEGORY_CHANGE: _l("Category change"),
    EntryKind.CONCERN_CHANGE: _l("Concern change"),
    EntryKind.REVIEW: _l("Review"),
    EntryKind.STATUS_CHANGE: _l("Daily status change"),
    EntryKind.RECHECK_CHANGE: _l("Re-check"),
    EntryKind.CORRECTION: _l("Correction"),
    EntryKind.RETURN_REQUEST: _l("Early-return request"),
    EntryKind.TRANSFER: _l("Transfer"),
}
HEALTH = {
    Health.NORMAL: _l("Normal"),
    Health.FEVER: _l("Fever"),
    Health.SYMPTOMS: _l("Cough or other symptoms"),
    Health.SUSPECTED: _l("Suspected case"),
    Health.CONFIRMED: _l("Confirmed case"),
    Health.ISOLATED_HOME: _l("Isolated at home"),
    Health.ISOLATED_CENTRE: _l("Isolated at the centre"),
}
REFERRAL_STATE = {
    ReferralState.OPEN: _l("Open"),
    ReferralState.ACCEPTED: _l("Accepted"),
    ReferralState.DECLINED: _l("Declined"),
    ReferralState.DONE: _l("Done"),
    ReferralState.REVOKED: _l("Revoked"),
}
#: The colour of a referral's state badge (Bootstrap's text-bg-*); other states are grey.
REFERRAL_STATE_BADGE = {
    ReferralState.OPEN: "text-bg-warning",
    ReferralState.ACCEPTED: "text-bg-primary",
    ReferralState.DONE: "text-bg-success",
}
URGENCY = {Urgency.NORMAL: _l("Normal"), Urgency.URGENT: _l("Urgent")}
RECHECK_STATE = {
    RecheckState.OPEN: _l("Open"),
    RecheckState.DONE: _l("Done"),
    RecheckState.CANCELLED: _l("Cancelled"),
}
RECHECK_ORIGIN = {
    RecheckOrigin.CADENCE: _l("Category cadence"),
    RecheckOrigin.FOLLOW_UP: _l("Asked at a follow-up"),
    RecheckOrigin.ISOLATION: _l("Isolation window ends"),
    RecheckOrigin.REVIEW: _l("Review request"),
    RecheckOrigin.MANUAL: _l("Added by hand"),
    RecheckOrigin.STATUS: _l("A worrying daily status"),
    RecheckOrigin.RETURN_REQUEST: _l("An early-return request"),
}
#: Follow-up channels (caretrack.services.entries.Channel).
CHANNEL = {
    "phone": _l("Phone call"),
    "sms": _l("SMS"),
    "wechat": _l("WeChat"),
    "video": _l("Video call"),
    "in_person": _l("In person"),
    "email": _l("Email"),
}
#: Health observed at a follow-up (caretrack.services.entries.HealthObserved).
HEALTH_OBSERVED = {
    "normal": _l("Normal"),
    "symptoms": _l("Symptoms"),
    "unknown": _l("Unknown"),
}
#: Where supplies were delivered (caretrack.services.entries.DeliveryPlace).
DELIVERY_PLACE = {
    "dormitory": _l("Dormitory"),
    "conference_centre": _l("Conference centre"),
    "other": _l("Other place"),
}
#: Steps of a referral (caretrack.services.referrals.ReferralStep).
REFERRAL_STEP = {
    "accepted": _l("Accepted the referral"),
    "declined": _l("Declined the referral"),
    "responded": _l("Responded"),
    "done": _l("Marked the referral done"),
    "revoked": _l("Revoked the referral"),
}
REPORT_STATE = {
    ReportState.SUBMITTED: _l("Submitted"),
    ReportState.RETURNED: _l("Returned"),
    ReportState.APPROVED: _l("Approved"),
}
#: What a status rule reacts to (caretrack.services.status_rules).
STATUS_TRIGGER = {
    StatusTrigger.FEVER: _l("Fever"),
    StatusTrigger.SYMPTOMS: _l("Cough or other symptoms"),
    StatusTrigger.SUSPECTED: _l("Suspected case"),
    StatusTrigger.CONFIRMED: _l("Confirmed case"),
    StatusTrigger.HUBEI: _l("Arrived in Hubei"),
    StatusTrigger.RISK_AREA: _l("Arrived in a risk area"),
    StatusTrigger.RISK_CONTACT: _l("A new risk contact"),
}

#: Why a student asks to return early (the account's reasons).
RETURN_REASON = {
    ReturnReason.EXAM: _l("Postgraduate entrance or other exam"),
    ReturnReason.INTERNSHIP: _l("Internship"),
    ReturnReason.JOB: _l("Job"),
    ReturnReason.RESEARCH: _l("Research"),
    ReturnReason.FAMILY: _l("Family"),
    ReturnReason.OTHER: _l("Other"),
}
RETURN_STATE = {
    ReturnState.PENDING: _l("Waiting for the counsellor"),
    ReturnState.RECOMMENDED: _l("Waiting for the decision"),
    ReturnState.APPROVED: _l("Approved to return"),
    ReturnState.DECLINED: _l("Not approved"),
    ReturnState.WITHDRAWN: _l("Withdrawn"),
    ReturnState.ARRIVED: _l("Arrived"),
}
#: The colour of a request's state badge; other states are grey.
RETURN_STATE_BADGE = {
    ReturnState.PENDING: "text-bg-warning",
    ReturnState.RECOMMENDED: "text-bg-info",
    ReturnState.APPROVED: "text-bg-success",
    ReturnState.DECLINED: "text-bg-danger",
    ReturnState.ARRIVED: "text-bg-primary",
}
#: Steps of an early-return request (caretrack.services.return_requests.ReturnStep).
RETURN_STEP = {
    "asked": _l("Asked to return early"),
    "recommended": _l("Recommended"),
    "approved": _l("Approved the return"),
    "declined": _l("Declined the return"),
    "withdrawn": _l("Withdrew the request"),
    "arrived": _l("Arrived on campus"),
}
AUDIENCE = {
    Audience.CASELOAD: _l("All my students"),
    Audience.CLASSES: _l("Some classes"),
    Audience.COLLEGE: _l("The whole college"),
    Audience.PROGRAMME: _l("A programme"),
    Audience.COHORT: _l("A cohort"),
    Audience.CATEGORY: _l("A care category"),
}
#: The bulk actions of the lists (caretrack.services.bulk.Action).
BULK_ACTION = {
    "add_category": _l("Add a care category"),
    "end_category": _l("End a care category"),
    "schedule_recheck": _l("Schedule a re-check"),
    "log_follow_up": _l("Log a follow-up (completes the open re-checks due)"),
    "flag_review": _l("Flag for the deputy secretary's review"),
    "set_concern": _l("Set the concern level"),
    "export": _l("Export as XLSX"),
    "transfer": _l("Transfer to another counsellor"),
    "assign_supervisor": _l("Set the supervisor"),
}

DATA_CLASS = {
    DataClass.STATUSES: _l("Daily statuses and self-reports"),
    DataClass.FOLLOW_UP_HEALTH: _l("Health observed in follow-ups"),
    DataClass.FREE_TEXT: _l("Text of follow-ups, notes and deliveries"),
    DataClass.CHECKIN_LINKS: _l("Check-in links and phones' remembered sign-ins"),
    DataClass.ACKNOWLEDGEMENTS: _l("Notices' recipients and acknowledgements"),
    DataClass.RETURN_REQUESTS: _l("Early-return requests' texts"),
}
LEAVING = {Leaving.GRADUATED: _l("Graduated"), Leaving.WITHDRAWN: _l("Withdrawn")}

STAGE = {
    Stage.REPORTS: _l("Counsellors' reports"),
    Stage.MERGE: _l("Merge"),
    Stage.CHECK: _l("Check"),
    Stage.APPROVE: _l("Approve and send"),
    Stage.DONE: _l("Sent to the university office"),
}
ALL = {
    "role": ROLE,
    "stage": STAGE,
    "programme": PROGRAMME,
    "gender": GENDER,
    "concern": CONCERN,
    "entry_kind": ENTRY_KIND,
    "bulk_action": BULK_ACTION,
    "health": HEALTH,
    "referral_state": REFERRAL_STATE,
    "urgency": URGENCY,
    "recheck_state": RECHECK_STATE,
    "recheck_origin": RECHECK_ORIGIN,
    "report_state": REPORT_STATE,
    "channel": CHANNEL,
    "health_observed": HEALTH_OBSERVED,
    "delivery_place": DELIVERY_PLACE,
    "referral_step": REFERRAL_STEP,
    "status_trigger": STATUS_TRIGGER,
    "return_reason": RETURN_REASON,
    "return_state": RETURN_STATE,
    "return_step": RETURN_STEP,
    "audience": AUDIENCE,
    "data_class": DATA_CLASS,
    "leaving": LEAVING,
}


def label(group: str, value) -> str:
    """Return the translated label of ``value`` in ``group``, or the value itself.

    Looked up once per request and language (a list labels the same few values in every
    row)."""
    if not has_app_context():
        return str(ALL[group].get(value, value if value is not None else ""))
    key = (str(get_locale()), group, value)
    seen = g.get("_labels")
    if seen is None:
        seen = g._labels = {}
    found = seen.get(key)
    if found is None:
        found = seen[key] = str(ALL[group].get(value, value if value is not None else ""))
    return found


def choices(group: str) -> list[SelectChoice]:
    """Return the choices of a select or radio field, labels resolved lazily."""
    return [SelectChoice(str(k), v) for k, v in ALL[group].items()]
