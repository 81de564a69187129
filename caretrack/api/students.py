"""Students: the caseload list with its filters, one student (audited), the care categories."""

from flask.views import MethodView
from flask_login import current_user

from caretrack.access import can_read_cases, get_student_or_404, reads_full_timeline, requires
from caretrack.api import bp
from caretrack.api.pages import READ_ERRORS, documented, page_of
from caretrack.api.schemas import (
    CategoryListSchema,
    StudentListArgs,
    StudentPageSchema,
    StudentSchema,
)
from caretrack.models import Student, User
from caretrack.services import student_page
from caretrack.services.categories import all_categories
from caretrack.services.students import (
    CaseloadFilters,
    active_assignments_by_student,
    caseload_query,
)
from caretrack.web import client_address, commit_write


def student_fields(student: Student, user: User, assignments: list) -> dict:
    """A student as the API shows it to ``user``: the case fields only to a full reader."""
    full = reads_full_timeline(user)
    return {
        "id": student.id, "student_number": student.student_number, "name": student.name,
        "gender": student.gender, "programme": student.programme, "cohort": student.cohort,
        "class_name": student.class_name, "counsellor": student.counsellor,
        "concern_level": student.concern_level if full else None,
        "on_campus": student.on_campus if full else None,
        "province": student.province if full else None,
        "city": student.city if full else None,
        "categories": [
            {"id": a.category_id, "code": a.category.code, "started_on": a.started_on}
            for a in assignments
        ] if full else None,
    }


@bp.route("/students")
class Students(MethodView):
    @bp.arguments(StudentListArgs, location="query")
    @bp.response(200, StudentPageSchema)
    @documented(*READ_ERRORS)
    @requires(can_read_cases)
    def get(self, args):
        """The students the caller may see, filtered as the caseload list, in roster order."""
        filters = CaseloadFilters(
            q=args["q"].strip(), category=args.get("category"),
            concern=args.get("concern", ""), programme=args.get("programme", ""),
            cohort=args.get("cohort"), class_name=args.get("class_name", "").strip(),
            on_campus=args.get("on_campus"), counsellor=args.get("counsellor"),
            recheck=args.get("recheck", ""),
        )
        students, page = page_of(caseload_query(current_user, filters), args, "api.Students")
        assignments = active_assignments_by_student([s.id for s in students])
        return {**page, "items": [
            student_fields(s, current_user, assignments[s.id]) for s in students]}


@bp.route("/students/<int:student_id>")
class StudentDetail(MethodView):
    @bp.response(200, StudentSchema)
    @documented(*READ_ERRORS)
    @requires(can_read_cases)
    def get(self, student_id: int):
        """One student; the read is audited as a view of the student's record.

        A student the caller may not see answers 404, as one that does not exist."""
        student = get_student_or_404(student_id, current_user)
        commit_write(lambda: student_page.record_view(
            student, current_user, ip=client_address(), action="api.student.view"))
        assignments = active_assignments_by_student([student.id])
        return student_fields(student, current_user, assignments[student.id])


@bp.route("/categories")
class Categories(MethodView):
    @bp.response(200, CategoryListSchema)
    @documented(401)
    def get(self):
        """The care categories, in their order (active and retired)."""
        return {"items": all_categories()}
