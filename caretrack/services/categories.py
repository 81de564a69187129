"""Managing the care categories (the admin's)."""

from datetime import datetime

from sqlalchemy import func, select

from caretrack.extensions import db
from caretrack.models import CareCategory, User
from caretrack.services.audit import record_event
from caretrack.services.errors import RuleError


def all_categories() -> list[CareCategory]:
    return list(
        db.session.scalars(select(CareCategory).order_by(CareCategory.sort_order, CareCategory.id))
    )


def save_category(
    category: CareCategory | None, admin: User | None, *, now: datetime | None = None,
    ip: str = "", **fields,
) -> CareCategory:
    """Create a category (``category`` None) or change one, and audit it; codes are unique.

    :raise RuleError: "category-code-taken" if another category has the code.
    """
    taken = db.session.scalars(
        select(CareCategory.id).where(CareCategory.code == fields["code"])
    ).first()
    if taken is not None and (category is None or taken != category.id):
        raise RuleError("category-code-taken", "code")
    if category is None:
        next_order = db.session.scalar(select(func.coalesce(func.max(CareCategory.sort_order), 0)))
        category = CareCategory(sort_order=next_order + 1)
        db.session.add(category)
    for name, value in fields.items():
        setattr(category, name, value)
    db.session.flush()
    record_event("category.save", admin, detail=f"category:{category.id}", now=now, ip=ip)
    return category
