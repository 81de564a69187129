"""Students' own daily check-in: the links they come in by, the identity check on a class
link, and the submission that becomes the day's status (source "self")."""

from caretrack.services.checkin.identity import (
    DEVICE_COOKIE,
    Verification,
    device_student,
    device_token,
    verify_identity,
)
from caretrack.services.checkin.links import (
    class_links,
    class_token,
    classes_of,
    find_link,
    link_url,
    personal_links,
    personal_token,
    revoke_student,
    rotate_caseload,
    rotate_class,
    rotate_student,
)
from caretrack.services.checkin.submit import (
    CheckinValues,
    cutoff,
    latest_checkins,
    prefill,
    same_as_yesterday,
    submit_checkin,
    todays_checkins,
)

__all__ = [
    "DEVICE_COOKIE", "CheckinValues", "Verification", "class_links", "class_token",
    "classes_of", "cutoff", "device_student", "device_token", "find_link", "latest_checkins",
    "link_url", "personal_links", "personal_token", "prefill", "revoke_student",
    "rotate_caseload", "rotate_class", "rotate_student", "same_as_yesterday", "submit_checkin",
    "todays_checkins", "verify_identity",
]
