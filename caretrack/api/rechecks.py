"""The caller's open re-checks: overdue and due today, as on the landing page."""

from flask.views import MethodView
from flask_login import current_user

from caretrack.access import requires, works_rechecks
from caretrack.api import bp
from caretrack.api.pages import documented
from caretrack.api.schemas import RecheckListSchema
from caretrack.models import now_utc
from caretrack.services.recheck_lists import worklist

#: At most this many of each section (the counts give the full numbers).
LIMIT = 500


@bp.route("/rechecks")
class Rechecks(MethodView):
    @bp.response(200, RecheckListSchema)
    @documented(401, 404)
    @requires(works_rechecks)
    def get(self):
        """The caller's open re-checks overdue and due today, oldest first (at most 500 of
        each; the counts are complete)."""
        work = worklist(current_user, now_utc(), limit=LIMIT)
        items = [
            {"id": r.id, "student_id": r.student_id, "student_number": r.student.student_number,
             "student_name": r.student.name, "due_on": r.due_on,
             "overdue": r.due_on < work.today, "reason": r.reason, "origin": r.origin,
             "state": r.state, "owner_id": r.owner_id}
            for r in work.overdue + work.due_today
        ]
        return {"today": work.today, "overdue_count": work.overdue_count,
                "due_today_count": work.due_today_count, "items": items}
