"""Every sentence a refused change shows the user, by the code of the rule that refused it.

Services raise :class:`caretrack.services.errors.RuleError` with a code from this table; views
and the API turn the code into the user's sentence with :func:`message`. Codes are unique across
the whole application: the same code always means the same thing.
"""

from flask_babel import lazy_gettext as _l

MESSAGES = {
    # -- anywhere ---------------------------------------------------------------------------
    "not-allowed": _l("You may not do this for this student."),
    # -- class group robots ---------------------------------------------------------------------
    "webhook-address": _l("Paste the robot's webhook address as the group's settings show it "
                          "(企业微信: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…; "
                          "DingTalk: https://oapi.dingtalk.com/robot/send?access_token=…)."),
    "empty": _l("This field is required."),
    "no-reason": _l("Say why."),
    "stale": _l("Someone changed this meanwhile; look at the page again."),
    # -- timeline entries ---------------------------------------------------------------------
    "in-future": _l("This time is in the future."),
    "negative-interval": _l("The number of days cannot be negative."),
    "interval": _l("Choose between 0 and 365 days."),
    "no-items": _l("List at least one item."),
    "bad-quantity": _l("A quantity is a number above 0 (at most two decimals, up to 9999); "
                       "a unit has at most 20 characters."),
    "not-correctable": _l("This kind of entry is not corrected this way."),
    "already-corrected": _l("This entry has a correction already; correct the correction."),
    # -- care categories and concern ------------------------------------------------------------
    "already-assigned": _l("The student holds this category already."),
    "already-ended": _l("This category has ended already."),
    "ends-before-start": _l("A category cannot end before it started."),
    "concern-unchanged": _l("The student is at this level already."),
    "category-code-taken": _l("Another category has this code."),
    # -- referrals ------------------------------------------------------------------------------
    "not-a-supervisor": _l("Choose an active supervisor."),
    "supervisor-elsewhere": _l("This supervisor works in another college: choose one of the "
                               "student's college."),
    "already-referred": _l("The student has an open referral to this supervisor already."),
    "not-the-supervisor": _l("Only the supervisor the referral was made to takes this step."),
    "referral-not-open": _l("The referral is no longer open."),
    "referral-not-accepted": _l("The referral is not accepted, or it is closed already."),
    "referral-stale": _l("The referral changed meanwhile; look again."),
    "no-response": _l("Write what you did."),
    # -- re-checks ------------------------------------------------------------------------------
    "recheck-not-open": _l("This re-check is closed already."),
    "in-the-past": _l("Choose today or a later day."),
    "recheck-unchanged": _l("That is the day it is due already."),
    # -- review ---------------------------------------------------------------------------------
    "act-by-required": _l("Give the date by which the counsellor should act."),
    "act-by-past": _l("The date cannot be in the past."),
    "already-queued": _l("This student is already in the review queue."),
    # -- status rules ---------------------------------------------------------------------------
    "unknown-category": _l("Choose a care category that exists."),
    "risk-area-ends-before-start": _l("The last day cannot be before the first."),
    "suggestion-closed": _l("This suggestion was applied or dismissed already."),
    # -- daily statuses and reports -------------------------------------------------------------
    "upload-expired": _l("This preview has expired or belongs to another day. Upload the sheet "
                         "again."),
    "not-zero": _l("There are %(detail)s changes since yesterday: submit them as the report "
                   "instead of a zero report."),
    "already-submitted": _l("This report has been submitted already."),
    "locked": _l("This report is approved and locked."),
    "future-day": _l("A day that has not begun cannot be reported."),
    "not-submitted": _l("Only a submitted report can be approved or returned."),
    "approve-all-changed": _l("The submitted reports changed meanwhile (one was returned, "
                              "resubmitted, approved or newly submitted): here they are again; "
                              "nothing was approved."),
    "comment-required": _l("Say why you return the report."),
    "not-ready": _l("The college report can be exported once every counsellor's report of the "
                    "day is approved."),
    "not-your-student": _l("Only your own students' statuses can be recorded."),
    "duplicate-rows": _l("A student appears twice."),
    "invalid-health": _l("Unknown health value “%(detail)s”."),
    "missing-location": _l("Enter the province, or tick “On campus”."),
    "recorded-meanwhile": _l("A status was recorded meanwhile by another window; nothing was "
                             "saved. Look at the page again."),
    # -- honest zero reports (branch zero) -----------------------------------------------------
    "unconfirmed-students": _l("%(num)d students have not confirmed their status today; their "
                               "last known status is only carried forward. Submit the report "
                               "anyway?"),
    "approve-unconfirmed": _l("%(num)d of this counsellor's students have not confirmed their "
                              "status today. Approve the report anyway?"),
    # -- the chase list -------------------------------------------------------------------------
    "chase-channel": _l("Choose phone, SMS or WeChat."),
    "chase-outcome": _l("Choose what the contact found."),
    "chase-none-selected": _l("Select the students first."),
    # -- check-in sheets: one problem of an uploaded sheet, by row ------------------------------
    "sheet-empty": _l("The file is empty."),
    "sheet-not-a-spreadsheet": _l("This file is not a CSV or XLSX spreadsheet."),
    "sheet-encoding": _l("The CSV file is neither UTF-8 nor GBK. Save it as UTF-8 and try "
                         "again."),
    "sheet-missing-columns": _l("Columns missing: %(value)s."),
    "sheet-duplicate-columns": _l("The column “%(value)s” appears twice."),
    "sheet-no-rows": _l("The sheet has a header row but no students."),
    "sheet-too-many-rows": _l("The sheet has more than %(value)s rows."),
    "sheet-missing-student-number": _l("The student number is empty."),
    "sheet-not-your-student": _l("Student number %(value)s is not one of your students."),
    "sheet-duplicate-row": _l("Student number %(number)s appears again (first on row "
                              "%(first)s)."),
    "merge-same-record": _l("Choose two different records."),
    "merge-not-a-record": _l("This record was merged into another one already."),
    "merge-not-reversible": _l("This merge can no longer be undone: something was recorded "
                               "since, or it was undone already."),
    "sheet-ambiguous-number": _l("Student number %(number)s matches several of your students "
                                 "(%(numbers)s): write it in full."),
    "sheet-unknown-sheet": _l("The file has no sheet called “%(value)s”."),
    "sheet-name-mismatch": _l("“%(name)s” is not the name of student %(number)s."),
    "sheet-invalid-health": _l("Unknown health value “%(value)s”; use one of: %(names)s."),
    "sheet-invalid-on-campus": _l("“%(value)s” is neither yes nor no."),
    "sheet-missing-location": _l("The location is empty."),
    # -- notices --------------------------------------------------------------------------------
    "too-long": _l("At most %(max)s characters."),
    "notice-audience": _l("Choose who the notice goes to."),
    "notice-audience-empty": _l("Choose at least one class, or the programme, cohort or category."),
    "notice-unknown-class": _l("No student of yours is in %(name)s."),
    "notice-no-students": _l("No student is in this audience."),
    "notice-deadline-past": _l("The deadline must be in the future."),
    "notice-corrected-already": _l("This notice has a correction already; correct the correction."),
    "notice-pledge": _l("Tick the pledge to acknowledge this notice."),
    # -- early-return requests ------------------------------------------------------------------
    "return-already-open": _l("You have a request waiting for a decision already."),
    "return-not-pending": _l("The counsellor has recommended on this request already, or it "
                             "is closed."),
    "return-not-recommended": _l("This request is not waiting for a decision."),
    "return-not-approved": _l("Only an approved request's arrival can be recorded."),
    "return-closed": _l("This request has been decided or withdrawn already."),
    "return-stale": _l("The request changed meanwhile; look at it again."),
    "return-isolation-days": _l("Choose between 0 and 60 days."),
    "campus-without-approval": _l("No early-return request of this student is approved. Tick "
                                  "the confirmation to put them on campus anyway."),
    "return-before-allowed": _l("The student may arrive from %(date)s."),
    # -- students' own check-in ---------------------------------------------------------------
    "checkin-identity": _l("The student number and the phone digits do not match our roster. "
                           "Check both and try again."),
    "checkin-wait": _l("Too many tries. Wait an hour and try again, or ask your counsellor."),
    "checkin-no-province": _l("Choose the province you are in."),
    "checkin-city-not-in-province": _l("Choose a city of %(province)s."),
    "checkin-no-country": _l("Say which country you are in."),
    "checkin-temperature-needed": _l("Give your temperature."),
    "checkin-temperature": _l("Give a temperature between 34 and 43 °C."),
    # -- absences and cover ----------------------------------------------------------------
    "absence-ends-before-start": _l("The last day comes before the first day."),
    "absence-in-past": _l("This absence would be over already; the last day is today at the "
                          "earliest."),
    "absence-too-long": _l("One absence lasts at most %(days)s days; extend it later if need "
                           "be."),
    "absence-overlaps": _l("This counsellor is already away on some of these days."),
    "absence-no-cover": _l("Choose who covers: one colleague for the whole caseload, or one "
                           "for each class."),
    "absence-cover-not-counsellor": _l("Choose an active colleague counsellor as the cover."),
    "absence-cover-away": _l("%(name)s is away on some of these days too."),
    "absence-unknown-class": _l("%(name)s is not a class of this caseload."),
    "absence-class-uncovered": _l("Choose who covers %(name)s."),
    "absence-cancelled": _l("This absence was cancelled meanwhile."),
    "absence-ended": _l("This absence is over; it cannot change any more."),
    "absence-not-started": _l("This absence has not started; cancel it instead."),
    "absence-not-earlier": _l("Choose a day before the current last day."),
    "absence-not-later": _l("Choose a day after the current last day."),
    "absence-end-in-past": _l("The last day can be yesterday at the earliest, and not before "
                              "the first day."),
    "absence-started": _l("This absence has started; end it early instead."),
    # -- transfers and bulk actions ---------------------------------------------------------
    "transfer-not-counsellor": _l("Choose an active counsellor to move the students to."),
    "counsellor-elsewhere": _l("This counsellor works in another college: choose one of your "
                               "college."),
    "transfer-no-reason": _l("Say why the students move."),
    "transfer-none": _l("None of these students would move: they are this counsellor's "
                        "already."),
    "transfer-stale": _l("The students to move changed since the preview; look at it again."),
    "bulk-stale": _l("The students matched changed since the preview (someone changed one, or "
                     "the list's filter now finds others); look at the preview again."),
    "bulk-nothing": _l("This would change none of the students selected."),
    "bulk-bad-day": _l("Give a day as YYYY-MM-DD."),
    "bulk-no-category": _l("Choose a care category."),
    "bulk-no-level": _l("Choose a concern level."),
    "bulk-not-held": _l("The student does not hold this category."),
    "bulk-with-counsellor": _l("The student is this counsellor's already."),
    "supervisor-unchanged": _l("This is the student's supervisor already."),
    # -- accounts -------------------------------------------------------------------------------
    "username-taken": _l("This username is taken."),
    "password-required": _l("A new account needs a password."),
    "own-account": _l("You cannot deactivate your own account."),
    "college-required": _l("Choose the college the account works in."),
    "university-not-ready": _l("The university report downloads once every college's last "
                               "stage has approved."),
    "sign-off-stale": _l("The sign-off moved on since this page was shown; look at it again."),
    "sign-off-not-your-stage": _l("It is not your stage's turn to sign this report."),
    "sign-off-first-stage": _l("Return a counsellor's report on the board instead."),
    "sign-off-locked": _l("The college's report was passed on: the counsellors' reports are "
                          "locked."),
    "role-not-allowed": _l("You may not give an account this role."),
    "college-code-taken": _l("Another college has this code."),
    "counsellor-other-college": _l("This counsellor works in another college."),
    "current-password-wrong": _l("The current password is wrong."),
    # -- security (sign-in, passwords, two-factor, uploads) -----------------------------------
    "password-length": _l("Use %(min)s to %(max)s characters."),
    "password-common": _l("This password is too common or too easy to guess; use a longer "
                          "phrase of unrelated words."),
    "sign-in-wait": _l("Too many failed sign-ins. Wait %(minutes)s minutes and try again, or ask "
                       "the administrator."),
    "two-factor-wrong": _l("This code is wrong or was used already. Type the 6 digits your "
                           "authenticator app shows now, or a recovery code."),
    "two-factor-required": _l("Your role must sign in with a second factor; it cannot be "
                              "turned off."),
    "sheet-unpacked-too-large": _l("The file unpacks to more than %(value)s MB, more than "
                                   "any roster needs. Remove unneeded sheets or columns."),
    "sheet-compression-ratio": _l("The file is compressed far more than a spreadsheet can be; "
                                  "it was refused unread."),
    "upload-too-many-rows": _l("The file has more than %(value)s rows; split it and upload "
                               "the parts."),
    # -- the API (branch api) -------------------------------------------------------------------
    "api-unauthenticated": _l("Sign in, or send a valid personal access token "
                              "(Authorization: Bearer …)."),
    "api-read-only": _l("This token is read-only; create a read-write token to make changes."),
    "api-token-scope": _l("Choose read-only or read-write."),
    "api-token-expiry": _l("Choose one of the offered expiries."),
    "api-token-unknown": _l("This token does not exist or is revoked already."),
    "api-not-today": _l("Statuses are recorded for today (%(today)s) only."),
    "api-too-many-rows": _l("At most %(value)s statuses in one request."),
    # -- the retention policy -------------------------------------------------------------------
    "not-retention-manager": _l("Only the deputy secretary records the retention policy."),
    "emergency-end-future": _l("The emergency cannot have ended on a day that has not begun."),
    "retention-days": _l("Write a number of days from 1 to %(max)d."),
}


def message(code: str, **values) -> str:
    """Return the user's sentence for ``code`` in the interface language, filled with
    ``values``; an unknown code is shown as itself (a missing sentence is a bug, not a crash)."""
    text = str(MESSAGES.get(code, code))
    return text % values if values else text
