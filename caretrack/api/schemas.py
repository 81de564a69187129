"""The API's request and response schemas (marshmallow): English snake_case field names,
ISO 8601 datetimes with their offset, dates as YYYY-MM-DD, student numbers as strings, every
enum listed."""

from marshmallow import Schema, fields, validate

from caretrack.models import (
    ConcernLevel,
    EntryKind,
    Gender,
    Health,
    Programme,
    RecheckOrigin,
    RecheckState,
    ReferralState,
    ReportState,
    StatusSource,
    Urgency,
)
from caretrack.services.daily.reports import MISSING
from caretrack.services.daily.sheet import MAX_SHEET_ROWS
from caretrack.services.entries import Channel, DeliveryPlace, HealthObserved
from caretrack.services.referrals import ReferralStep


def one_of(enum) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


class Strict(Schema):
    """Unknown fields are refused (a typo in a field name is not silently ignored)."""


# -- errors ---------------------------------------------------------------------------------


class FieldErrorSchema(Schema):
    field = fields.String(required=True, metadata={"description": "dotted path of the field"})
    code = fields.String(required=True)
    detail = fields.String(required=True)


class ProblemSchema(Schema):
    """An RFC 9457 problem: ``type`` is stable per rule error code."""

    type = fields.String(required=True, metadata={
        "description": "urn:caretrack:problem:<code> for a rule's refusal, else about:blank"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    code = fields.String(metadata={"description": "the rule error code (caretrack/messages.py)"})
    field = fields.String(metadata={"description": "the field the error concerns"})
    errors = fields.List(fields.Nested(FieldErrorSchema))


# -- shared pieces ------------------------------------------------------------------------------


class PersonSchema(Schema):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True)


class PageArgs(Strict):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageSchema(Schema):
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    next = fields.String(required=True, allow_none=True,
                         metadata={"description": "the next page's URL, or null on the last"})


# -- students -----------------------------------------------------------------------------------


class StudentListArgs(PageArgs):
    q = fields.String(load_default="", validate=validate.Length(max=100),
                      metadata={"description": "part of the name or the student number"})
    category = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    concern = fields.String(validate=one_of(ConcernLevel))
    programme = fields.String(validate=one_of(Programme))
    cohort = fields.Integer(validate=validate.Range(min=1900, max=2100))
    class_name = fields.String(validate=validate.Length(max=100))
    on_campus = fields.Boolean()
    counsellor = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    recheck = fields.String(validate=validate.OneOf(["overdue"]))


class CategoryRefSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    started_on = fields.Date(required=True)


class StudentSchema(Schema):
    """A student; a supervisor gets the identity fields only (the case fields are null)."""

    id = fields.Integer(required=True)
    student_number = fields.String(required=True)
    name = fields.String(required=True)
    gender = fields.String(required=True, validate=one_of(Gender))
    programme = fields.String(required=True, validate=one_of(Programme))
    cohort = fields.Integer(required=True)
    class_name = fields.String(required=True)
    counsellor = fields.Nested(PersonSchema, required=True)
    concern_level = fields.String(required=True, allow_none=True,
                                  validate=one_of(ConcernLevel))
    on_campus = fields.Boolean(required=True, allow_none=True)
    province = fields.String(required=True, allow_none=True)
    city = fields.String(required=True, allow_none=True)
    categories = fields.List(fields.Nested(CategoryRefSchema), required=True, allow_none=True)


class StudentPageSchema(PageSchema):
    items = fields.List(fields.Nested(StudentSchema), required=True)


# -- timeline -----------------------------------------------------------------------------------


class EntrySchema(Schema):
    id = fields.Integer(required=True)
    student_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=one_of(EntryKind))
    author = fields.Nested(PersonSchema, required=True)
    occurred_at = fields.AwareDateTime(required=True)
    created_at = fields.AwareDateTime(required=True)
    body = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "the kind's own fields"})
    corrects_id = fields.Integer(required=True, allow_none=True)
    referral_id = fields.Integer(required=True, allow_none=True)
    purged_on = fields.Date(required=True, allow_none=True, metadata={
        "description": "the day the retention policy deleted the entry's text (body and the "
                       "kind's text fields); null while it is kept"})


class StudentRefSchema(Schema):
    id = fields.Integer(required=True)
    student_number = fields.String(required=True)
    name = fields.String(required=True)


class EntryPageSchema(PageSchema):
    student = fields.Nested(StudentRefSchema, required=True)
    items = fields.List(fields.Nested(EntrySchema), required=True)


class TimelineArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf([
        k.value for k in EntryKind if k != EntryKind.REFERRAL_STEP]))


class IdempotencyHeader(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", validate=validate.Length(min=1, max=40),
        metadata={"description": "the same key twice writes one entry (the first stands)"})


class FollowUpInput(Strict):
    channel = fields.String(required=True, validate=one_of(Channel))
    reached = fields.Boolean(required=True)
    health = fields.String(required=True, validate=one_of(HealthObserved))
    body = fields.String(load_default="", validate=validate.Length(max=5000))
    occurred_at = fields.AwareDateTime(metadata={"description": "default: now"})
    check_again_in_days = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=365),
                                         metadata={"description": (
                                             "omitted: the interval the form suggests from the "
                                             "student's care categories; null or 0: none")})


class DeliveryItemInput(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    quantity = fields.Float(required=True, validate=validate.Range(
        min=0, min_inclusive=False, max=9999), metadata={"description": "e.g. 2 or 1.5"})
    unit = fields.String(load_default="", validate=validate.Length(max=20),
                         metadata={"description": "free text, e.g. 箱, 袋, 瓶, kg"})


class DeliveryInput(Strict):
    items = fields.List(fields.Nested(DeliveryItemInput), required=True,
                        validate=validate.Length(min=1, max=20))
    place = fields.String(required=True, validate=one_of(DeliveryPlace))
    place_detail = fields.String(load_default="", validate=validate.Length(max=200))
    received = fields.Boolean(required=True)
    delivered_by = fields.String(required=True, validate=validate.Length(min=1, max=100))
    body = fields.String(load_default="", validate=validate.Length(max=5000))
    occurred_at = fields.AwareDateTime(metadata={"description": "default: now"})


class NoteInput(Strict):
    body = fields.String(required=True, validate=validate.Length(min=1, max=5000))


# -- re-checks ----------------------------------------------------------------------------------


class RecheckSchema(Schema):
    id = fields.Integer(required=True)
    student_id = fields.Integer(required=True)
    student_number = fields.String(required=True)
    student_name = fields.String(required=True)
    due_on = fields.Date(required=True)
    overdue = fields.Boolean(required=True)
    reason = fields.String(required=True)
    origin = fields.String(required=True, validate=one_of(RecheckOrigin))
    state = fields.String(required=True, validate=one_of(RecheckState))
    owner_id = fields.Integer(required=True)


class RecheckListSchema(Schema):
    today = fields.Date(required=True)
    overdue_count = fields.Integer(required=True)
    due_today_count = fields.Integer(required=True)
    items = fields.List(fields.Nested(RecheckSchema), required=True)


# -- daily statuses -----------------------------------------------------------------------------


class DayStatusSchema(Schema):
    student_id = fields.Integer(required=True)
    student_number = fields.String(required=True)
    name = fields.String(required=True)
    class_name = fields.String(required=True)
    province = fields.String(required=True)
    city = fields.String(required=True)
    on_campus = fields.Boolean(required=True)
    health = fields.String(required=True, validate=one_of(Health))
    note = fields.String(required=True)
    confirmed = fields.Boolean(required=True, metadata={
        "description": "recorded for this day; false: carried forward, unconfirmed"})
    changed = fields.Boolean(required=True)
    source = fields.String(required=True, allow_none=True, validate=one_of(StatusSource))
    recorded_at = fields.AwareDateTime(required=True, allow_none=True)


class DayStatusArgs(PageArgs):
    show = fields.String(load_default="all", validate=validate.OneOf(
        ["all", "missing", "changes", *(s.value for s in StatusSource)]))


class DayStatusPageSchema(PageSchema):
    day = fields.Date(required=True)
    items = fields.List(fields.Nested(DayStatusSchema), required=True)


class StatusRowInput(Schema):
    """One row, with the sheet upload's columns and the same parsing (Chinese or English
    place and health names; ``location`` instead of ``province`` and ``city``)."""

    student_number = fields.String(required=True, validate=validate.Length(max=32))
    name = fields.String(validate=validate.Length(max=100))
    province = fields.String(validate=validate.Length(max=50))
    city = fields.String(validate=validate.Length(max=50))
    location = fields.String(validate=validate.Length(max=100))
    on_campus = fields.Boolean(allow_none=True)
    health = fields.String(required=True, validate=validate.Length(max=50), metadata={
        "description": "a health value or a name of one, e.g. normal, fever, 发热",
        "examples": [h.value for h in Health]})
    note = fields.String(validate=validate.Length(max=2000))


class StatusBulkInput(Strict):
    statuses = fields.List(fields.Nested(StatusRowInput), required=True,
                           validate=validate.Length(min=1, max=MAX_SHEET_ROWS))


class RowRefusalSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "0-based index in statuses"})
    student_number = fields.String(required=True)
    code = fields.String(required=True)
    type = fields.String(required=True)
    detail = fields.String(required=True)


class StatusBulkResultSchema(Schema):
    day = fields.Date(required=True)
    applied = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    refused = fields.List(fields.Nested(RowRefusalSchema), required=True)


# -- daily reports ------------------------------------------------------------------------------


class ReportSchema(Schema):
    counsellor = fields.Nested(PersonSchema, required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        [MISSING, *(s.value for s in ReportState)]), metadata={
        "description": "the report's state; missing: not submitted yet"})
    is_zero = fields.Boolean(required=True, allow_none=True)
    changes_count = fields.Integer(required=True, allow_none=True)
    late = fields.Boolean(required=True, allow_none=True)
    submitted_at = fields.AwareDateTime(required=True, allow_none=True)
    reviewed_at = fields.AwareDateTime(required=True, allow_none=True)
    review_comment = fields.String(required=True, allow_none=True)


class ReportDaySchema(Schema):
    day = fields.Date(required=True)
    deadline = fields.AwareDateTime(required=True)
    reports = fields.List(fields.Nested(ReportSchema), required=True)


# -- referrals and categories -------------------------------------------------------------------


class ReferralSchema(Schema):
    id = fields.Integer(required=True)
    student_id = fields.Integer(required=True)
    student_number = fields.String(required=True)
    student_name = fields.String(required=True)
    referred_by = fields.Nested(PersonSchema, required=True)
    supervisor = fields.Nested(PersonSchema, required=True)
    reason = fields.String(required=True)
    urgency = fields.String(required=True, validate=one_of(Urgency))
    state = fields.String(required=True, validate=one_of(ReferralState))
    version = fields.Integer(required=True, metadata={
        "description": "send it back with a step: a stale version answers 409"})
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class ReferralPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReferralSchema), required=True)


class ReferralListArgs(PageArgs):
    state = fields.String(validate=one_of(ReferralState))


class ReferralStepInput(Strict):
    step = fields.String(required=True, validate=one_of(ReferralStep))
    text = fields.String(load_default="", validate=validate.Length(max=5000), metadata={
        "description": "the note, the reason (decline) or what was done (respond)"})
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class CategorySchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    colour = fields.String(required=True)
    cadence_days = fields.Integer(required=True)
    isolation_days = fields.Integer(required=True, allow_none=True)
    active = fields.Boolean(required=True)


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)
