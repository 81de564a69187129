"""CareTrack's data model, one module per domain noun."""

from caretrack.models.absence import Absence, AbsenceCover
from caretrack.models.api_token import ApiToken, TokenScope
from caretrack.models.audit import AuditEvent, AuditEventStudent, Notification, SentMessage
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.checkin import CheckIn, CheckinAttempt, CheckinLink, LinkKind
from caretrack.models.college import DEFAULT_COLLEGE_CODE, College
from caretrack.models.daily import DailyReport, DailyStatus, Health, ReportState, StatusSource
from caretrack.models.job import Job, JobState, ScheduleRun, StoredFile
from caretrack.models.message import ClassGroup, GroupService, MessageLog, MessageState
from caretrack.models.notice import (
    Audience,
    Notice,
    NoticeRecipient,
    ReturnReason,
    ReturnRequest,
    ReturnState,
)
from caretrack.models.retention import (
    DEFAULT_RETENTION_DAYS,
    DataClass,
    RetainedDayTotals,
    RetentionPolicy,
    RetentionPurge,
)
from caretrack.models.rules import (
    RiskArea,
    StatusRule,
    StatusSuggestion,
    StatusTrigger,
    SuggestionKind,
)
from caretrack.models.sign_off import (
    DEFAULT_STAGES,
    STAGE_ROLES,
    WITHOUT_MERGE,
    CollegeSignOff,
    SignOffStep,
    Stage,
)
from caretrack.models.student import (
    CareCategory,
    CategoryAssignment,
    ConcernChange,
    ConcernLevel,
    Gender,
    Leaving,
    Programme,
    Student,
    StudentMerge,
)
from caretrack.models.timeline import (
    EntryKind,
    Recheck,
    RecheckOrigin,
    RecheckState,
    Referral,
    ReferralState,
    TimelineEntry,
    Urgency,
)
from caretrack.models.user import UNIVERSITY_ROLES, RecoveryCode, Role, User

__all__ = [
    "DEFAULT_STAGES",
    "STAGE_ROLES",
    "WITHOUT_MERGE",
    "CollegeSignOff",
    "SignOffStep",
    "Stage",
    "DEFAULT_COLLEGE_CODE",
    "College",
    "UNIVERSITY_ROLES",
    "DEFAULT_RETENTION_DAYS",
    "DataClass",
    "Leaving",
    "RetainedDayTotals",
    "RetentionPolicy",
    "RetentionPurge",
    "ReturnState",
    "ReturnRequest",
    "ReturnReason",
    "NoticeRecipient",
    "Notice",
    "Audience",
    "Absence",
    "AbsenceCover",
    "ApiToken",
    "AuditEvent",
    "AuditEventStudent",
    "CareCategory",
    "CategoryAssignment",
    "CheckIn",
    "ClassGroup",
    "GroupService",
    "MessageLog",
    "MessageState",
    "CheckinAttempt",
    "CheckinLink",
    "ConcernChange",
    "ConcernLevel",
    "DailyReport",
    "DailyStatus",
    "EntryKind",
    "Gender",
    "Health",
    "Job",
    "JobState",
    "LinkKind",
    "Notification",
    "Programme",
    "Recheck",
    "RecheckOrigin",
    "RecheckState",
    "Referral",
    "ReferralState",
    "ReportState",
    "RecoveryCode",
    "RiskArea",
    "Role",
    "ScheduleRun",
    "SentMessage",
    "StatusRule",
    "StatusSource",
    "StatusSuggestion",
    "StoredFile",
    "StatusTrigger",
    "Student",
    "StudentMerge",
    "SuggestionKind",
    "TimelineEntry",
    "TokenScope",
    "UTCDateTime",
    "Urgency",
    "User",
    "now_utc",
]
