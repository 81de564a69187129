"""The status rules: what a new daily status sets in motion, whatever its source.

:func:`apply_rules` is called by :func:`caretrack.services.daily.statuses.apply_statuses`
(the counsellor's form, "unchanged", the check-in sheet, the students' own check-in) for every
status it writes. The table of :class:`StatusRule` rows (the admin edits it) says, for each
trigger, the concern level it raises to, the care category it suggests and whether it asks
for a re-check due today.

When a rule fires for a student:
- the concern level rises to the rule's level, never lowers (the highest of the rules that
  fired), through :func:`caretrack.services.cases.change_concern_level`, with a reason that
  names the status ("自报：发热 37.8℃，湖北 武汉"); a high level puts the student in the deputy
  secretary's review queue;
- a re-check due today is scheduled for the counsellor (origin "status");
- the rule's care category is suggested on the student's page (one click applies it);
- the counsellor is notified in-app, unless they recorded the status themselves.

Nothing fires twice for the same status. A trigger fires only when the new status shows it
and the status it replaces (today's earlier one, or the one carried forward to today) did not:
a health trigger when the health becomes fever, symptoms, suspected or confirmed; "Hubei" when
the province becomes Hubei; "risk area" when the place enters an area on the college's list
that day; "risk contact" when no status of the last 14 days (today's included) reported one.
So confirming a status unchanged, or recording the same fever again from another source the
same day, fires nothing. Each consequence is guarded as well: no re-check when an open
status re-check is due today or earlier, no suggestion of a category the student holds or is
already offered, and one notification per student per recording.

A return to normal health never lowers the concern level: it suggests lowering it on the
student's page (once, while the suggestion is open).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caretrack.extensions import db
from caretrack.labels import label
from caretrack.models import (
    CareCategory,
    CategoryAssignment,
    ConcernLevel,
    DailyStatus,
    Health,
    Recheck,
    RecheckOrigin,
    RecheckState,
    RiskArea,
    StatusRule,
    StatusSource,
    StatusSuggestion,
    StatusTrigger,
    Student,
    SuggestionKind,
    User,
)
from caretrack.services import rechecks
from caretrack.services.audit import record_event
from caretrack.services.cases import change_concern_level
from caretrack.services.daily.carried import chunks
from caretrack.services.daily.values import (
    HUBEI,
    StatusValues,
    normalise_city,
    normalise_province,
)
from caretrack.services.errors import RuleError
from caretrack.services.notifications import notify

#: The rule table a new college starts with: (trigger, concern level, category code, re-check).
DEFAULT_RULES = [
    (StatusTrigger.FEVER, ConcernLevel.HIGH, "other_attention", True),
    (StatusTrigger.SYMPTOMS, ConcernLevel.ELEVATED, "other_attention", True),
    (StatusTrigger.SUSPECTED, ConcernLevel.HIGH, "other_attention", True),
    (StatusTrigger.CONFIRMED, ConcernLevel.HIGH, "other_attention", True),
    (StatusTrigger.HUBEI, ConcernLevel.ELEVATED, "hubei", True),
    (StatusTrigger.RISK_AREA, ConcernLevel.ELEVATED, "other_attention", True),
    (StatusTrigger.RISK_CONTACT, ConcernLevel.ELEVATED, "hubei_contact", True),
]
#: Health values that are triggers of their own.
HEALTH_TRIGGERS = {
    Health.FEVER: StatusTrigger.FEVER,
    Health.SYMPTOMS: StatusTrigger.SYMPTOMS,
    Health.SUSPECTED: StatusTrigger.SUSPECTED,
    Health.CONFIRMED: StatusTrigger.CONFIRMED,
}
#: How long a reported risk contact counts as known (no new trigger within it).
RISK_CONTACT_DAYS = 14
NOTIFICATION_KIND = "status.alert"
_LEVEL_RANK = {ConcernLevel.NORMAL: 0, ConcernLevel.ELEVATED: 1, ConcernLevel.HIGH: 2}


@dataclass
class RuleInput:
    """One status just written, with the one it replaced."""

    student: Student
    before: StatusValues
    after: StatusValues
    temperature: Decimal | None = None
    #: A risk contact reported with this status, not known from the last 14 days.
    new_risk_contact: bool = False


# -- the table --------------------------------------------------------------------------------


def seed_default_rules() -> list[StatusRule]:
    """Add the default rule of every trigger that has none yet; return the whole table."""
    existing = {r.trigger for r in db.session.scalars(select(StatusRule))}
    for trigger, level, code, recheck in DEFAULT_RULES:
        if trigger not in existing:
            db.session.add(StatusRule(trigger=trigger, concern_level=level, category_code=code,
                                      schedules_recheck=recheck, active=True))
    db.session.flush()
    return rule_table()


def rule_table() -> list[StatusRule]:
    """The rules, in the order of :class:`StatusTrigger`."""
    order = {t.value: i for i, t in enumerate(StatusTrigger)}
    return sorted(db.session.scalars(select(StatusRule)), key=lambda r: order.get(r.trigger, 99))


def risk_areas_on(day: date) -> list[RiskArea]:
    """The risk areas on the college's list on ``day``."""
    return list(db.session.scalars(select(RiskArea).where(
        RiskArea.from_date <= day,
        (RiskArea.to_date.is_(None)) | (RiskArea.to_date >= day),
    )))


def in_risk_area(values: StatusValues, areas: list[RiskArea]) -> bool:
    """Whether the status's place is a listed province, or a listed city of it."""
    city = normalise_city(values.city)
    return any(
        area.province == values.province and (not area.city or normalise_city(area.city) == city)
        for area in areas
    )


def triggers_of(values: StatusValues, areas: list[RiskArea]) -> set[str]:
    """The place and health triggers a status shows (the risk contact is counted apart)."""
    found = set()
    if values.health in HEALTH_TRIGGERS:
        found.add(HEALTH_TRIGGERS[values.health].value)
    if values.province in HUBEI:
        found.add(StatusTrigger.HUBEI.value)
    if in_risk_area(values, areas):
        found.add(StatusTrigger.RISK_AREA.value)
    return found


def known_risk_contacts(student_ids: list[int], day: date) -> set[int]:
    """Students with a risk contact reported on a status of the last 14 days (today's too)."""
    known: set[int] = set()
    for chunk in chunks(student_ids):
        known.update(db.session.scalars(select(DailyStatus.student_id).where(
            DailyStatus.student_id.in_(chunk), DailyStatus.risk_contact.is_(True),
            DailyStatus.day > day - timedelta(days=RISK_CONTACT_DAYS),
        )))
    return known


# -- the reason -------------------------------------------------------------------------------


def _source_label(source: str) -> str:
    return {
        StatusSource.SELF_REPORTED: _("Self-reported"),
        StatusSource.UPLOAD: _("Check-in sheet"),
    }.get(source, _("Counsellor"))


def status_reason(item: RuleInput, source: str) -> str:
    """The concern change's reason: source, health (temperature), place, in the college's
    language ("自报：发热 37.8℃，湖北 武汉")."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN")):
        status = label("health", item.after.health)
        if item.temperature is not None:
            status = f"{status} {item.temperature}℃"
        if item.new_risk_contact:
            status = _("%(status)s, risk contact reported", status=status)
        after = item.after
        place = after.province if after.city in ("", after.province) else (
            f"{after.province} {after.city}")
        if place:
            status = _("%(status)s, %(place)s", status=status, place=place)
        return _("%(source)s: %(status)s", source=_source_label(source), status=status)


# -- applying ---------------------------------------------------------------------------------


def _open_status_rechecks(ids: list[int], day: date) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(ids):
        found.update(db.session.scalars(select(Recheck.student_id).where(
            Recheck.student_id.in_(chunk), Recheck.state == RecheckState.OPEN,
            Recheck.origin == RecheckOrigin.STATUS, Recheck.due_on <= day)))
    return found


def _offered(ids: list[int]) -> set[tuple[int, str, int | None]]:
    """(student, kind, category) of the open suggestions and the categories held now."""
    found: set[tuple[int, str, int | None]] = set()
    for chunk in chunks(ids):
        found.update(db.session.execute(select(
            StatusSuggestion.student_id, StatusSuggestion.kind, StatusSuggestion.category_id,
        ).where(StatusSuggestion.student_id.in_(chunk), StatusSuggestion.closed_at.is_(None))))
        found.update((sid, SuggestionKind.CATEGORY.value, cid) for sid, cid in db.session.execute(
            select(CategoryAssignment.student_id, CategoryAssignment.category_id).where(
                CategoryAssignment.student_id.in_(chunk), CategoryAssignment.ended_on.is_(None))))
    return found


def apply_rules(
    by: User, items: list[RuleInput], source: str, now: datetime, day: date, *, ip: str = "",
    areas: list[RiskArea] | None = None,
) -> dict[int, set[str]]:
    """Carry out the rules for the statuses just written; return the triggers that fired,
    by student (see the module's docstring for when a trigger fires)."""
    areas = risk_areas_on(day) if areas is None else areas
    fired: dict[int, set[str]] = {}
    relieved: list[RuleInput] = []
    for item in items:
        new = triggers_of(item.after, areas) - triggers_of(item.before, areas)
        if item.new_risk_contact:
            new.add(StatusTrigger.RISK_CONTACT.value)
        if new:
            fired[item.student.id] = new
        elif (item.after.health == Health.NORMAL and item.before.health in HEALTH_TRIGGERS
              and item.student.concern_level != ConcernLevel.NORMAL):
            relieved.append(item)
    if not fired and not relieved:
        return {}
    rules = {r.trigger: r for r in db.session.scalars(
        select(StatusRule).where(StatusRule.active.is_(True)))}
    ids = [item.student.id for item in items if item.student.id in fired or item in relieved]
    offered = _offered(ids)
    scheduled = _open_status_rechecks(ids, day)
    categories = {c.code: c for c in db.session.scalars(
        select(CareCategory).where(CareCategory.active.is_(True)))}
    for item in items:
        student = item.student
        active = [rules[t] for t in sorted(fired.get(student.id, ())) if t in rules]
        if not active:
            continue
        reason = status_reason(item, source)
        level = max((r.concern_level for r in active), key=lambda v: _LEVEL_RANK.get(v, 0))
        if _LEVEL_RANK.get(level, 0) > _LEVEL_RANK.get(student.concern_level, 0):
            change_concern_level(student, level, by, reason=reason, now=now, ip=ip)
        if any(r.schedules_recheck for r in active) and student.id not in scheduled:
            rechecks.schedule(student, due_on=day, reason=reason, origin=RecheckOrigin.STATUS,
                              by=by, now=now)
            scheduled.add(student.id)
        for rule in active:
            category = categories.get(rule.category_code)
            key = (student.id, SuggestionKind.CATEGORY.value, category.id if category else None)
            if category is None or key in offered:
                continue
            db.session.add(StatusSuggestion(
                student_id=student.id, kind=SuggestionKind.CATEGORY, category_id=category.id,
                reason=reason, created_at=now))
            offered.add(key)
        if source != StatusSource.COUNSELLOR or by.id != student.counsellor_id:
            notify(student.counsellor_id, NOTIFICATION_KIND, student_id=student.id, now=now)
    for item in relieved:
        key = (item.student.id, SuggestionKind.LOWER_CONCERN.value, None)
        if key not in offered:
            db.session.add(StatusSuggestion(
                student_id=item.student.id, kind=SuggestionKind.LOWER_CONCERN,
                reason=status_reason(item, source), created_at=now))
            offered.add(key)
    db.session.flush()
    return fired


# -- the admin's changes ----------------------------------------------------------------------


def save_rule(rule: StatusRule, admin: User, *, now: datetime, ip: str = "",
              concern_level: str, category_code: str, schedules_recheck: bool,
              active: bool) -> StatusRule:
    """Change what one trigger does, and audit it.

    :raise RuleError: "unknown-category" (category_code) for a code no category has.
    """
    if category_code and not db.session.scalar(
            select(CareCategory.id).where(CareCategory.code == category_code)):
        raise RuleError("unknown-category", "category_code")
    rule.concern_level = ConcernLevel(concern_level).value
    rule.category_code = category_code
    rule.schedules_recheck = bool(schedules_recheck)
    rule.active = bool(active)
    db.session.flush()
    record_event("status_rule.save", admin, detail=f"rule:{rule.trigger}", now=now, ip=ip)
    return rule


def save_risk_area(area: RiskArea | None, admin: User, *, now: datetime, ip: str = "",
                   province: str, city: str, from_date: date, to_date: date | None,
                   note: str = "") -> RiskArea:
    """Add a risk area (``area`` None) or change one, and audit it.

    :raise RuleError: "risk-area-ends-before-start" (to_date).
    """
    if to_date is not None and to_date < from_date:
        raise RuleError("risk-area-ends-before-start", "to_date")
    if area is None:
        area = RiskArea(created_at=now)
        db.session.add(area)
    area.province = normalise_province(province)[:50]
    area.city = normalise_city(city or "")[:50]
    area.from_date, area.to_date, area.note = from_date, to_date, (note or "").strip()
    db.session.flush()
    record_event("risk_area.save", admin, detail=f"risk_area:{area.id}", now=now, ip=ip)
    return area


def all_risk_areas() -> list[RiskArea]:
    """The college's risk-area list, the latest first."""
    return list(db.session.scalars(
        select(RiskArea).order_by(RiskArea.from_date.desc(), RiskArea.id.desc())))


# -- the suggestions on the student's page ----------------------------------------------------


def open_suggestions(student: Student) -> list[StatusSuggestion]:
    """The rules' suggestions for the student still waiting, oldest first."""
    return list(db.session.scalars(select(StatusSuggestion).where(
        StatusSuggestion.student_id == student.id, StatusSuggestion.closed_at.is_(None),
    ).order_by(StatusSuggestion.id)))


def close_suggestion(student: Student, suggestion_id: int, by: User, *, apply: bool,
                     now: datetime, ip: str = "") -> StatusSuggestion:
    """Apply a suggestion (the category through cases.assign_category, the lower concern
    through cases.change_concern_level) or dismiss it.

    :raise RuleError: "suggestion-closed" when it was applied or dismissed already.
    """
    from caretrack.services.cases import assign_category
    from caretrack.services.clock import local_today

    suggestion = db.session.get(StatusSuggestion, suggestion_id)
    if suggestion is None or suggestion.student_id != student.id:
        raise RuleError("suggestion-closed")
    if suggestion.closed_at is not None:
        raise RuleError("suggestion-closed")
    if apply and suggestion.kind == SuggestionKind.CATEGORY and suggestion.category:
        assign_category(student, suggestion.category, by, started_on=local_today(now),
                        reason=suggestion.reason, now=now, ip=ip)
    elif apply and student.concern_level != ConcernLevel.NORMAL:
        change_concern_level(student, ConcernLevel.NORMAL, by, reason=suggestion.reason,
                             now=now, ip=ip)
    suggestion.closed_at, suggestion.applied, suggestion.closed_by_id = now, apply, by.id
    db.session.flush()
    record_event("status_suggestion.apply" if apply else "status_suggestion.dismiss", by,
                 student.id, detail=f"suggestion:{suggestion.id}", now=now, ip=ip)
    return suggestion
