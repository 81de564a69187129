"""CareTrack's data model, one module per domain noun."""

from caretrack.models.absence import Absence, AbsenceCover
from caretrack.models.api_token import ApiToken, TokenScope
from caretrack.models.audit import AuditEvent, Notification, SentMessage
from caretrack.models.base import UTCDateTime, now_utc
from caretrack.models.checkin import CheckIn, CheckinAttempt, CheckinLink, LinkKind
from caretrack.models.daily import (
    TALLY_COUNTS,
    ActivityDay,
    DailyReport,
    DailyStatus,
    DailyTally,
    Health,
    ReportState,
    StatusSource,
)
from caretrack.models.notice import (
    Audience,
    Notice,
    NoticeRecipient,
    ReturnReason,
    ReturnRequest,
    ReturnState,
)
from caretrack.models.rules import (
    RiskArea,
    StatusRule,
    StatusSuggestion,
    StatusTrigger,
    SuggestionKind,
)
from caretrack.models.student import (
    CareCategory,
    CategoryAssignment,
    ConcernChange,
    ConcernLevel,
    Gender,
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
from caretrack.models.user import RecoveryCode, Role, User

__all__ = [
    "TALLY_COUNTS",
    "ActivityDay",
    "DailyTally",
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
    "CareCategory",
    "CategoryAssignment",
    "CheckIn",
    "CheckinAttempt",
    "CheckinLink",
    "ConcernChange",
    "ConcernLevel",
    "DailyReport",
    "DailyStatus",
    "EntryKind",
    "Gender",
    "Health",
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
    "SentMessage",
    "StatusRule",
    "StatusSource",
    "StatusSuggestion",
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
