"""Roster import, the roster and audit log exports, the caseload export."""

from caretrack.models import now_utc
from caretrack.services.roster_import import stage_upload
from tests.access_cases import CASE_READERS, Case, every_student, seen_and_unseen


def _upload_args(world, role):
    """A roster file the admin uploaded, for every role (only the admin may use it)."""
    counsellor = world.user("counsellor")
    data = (
        "学号,姓名,性别,培养层次,年级,班级,辅导员\n"
        f"0999000001,新同学,女,本科,2019,2019级会计学1班,{counsellor.username}\n"
    ).encode()
    token = stage_upload(world.user("admin"), "roster.csv", data, now_utc())
    return {"token": token}, None


def _merge_args(world, role):
    """A merge of a duplicate the admin made, for every role (only the admin may see it)."""
    from caretrack.extensions import db
    from caretrack.services.merges import merge_students
    from tests import factories

    keep = factories.StudentFactory(counsellor=world.user("counsellor"))
    twin = factories.StudentFactory(counsellor=world.user("counsellor"), name=keep.name)
    db.session.flush()
    merge = merge_students(keep.id, twin.id, world.user("admin"), now_utc())
    db.session.commit()
    return {"merge_id": merge.id}, None


CASES = {
    "admin.roster_import": Case("/admin/roster/import", {"admin"}),
    "admin.roster_import_preview": Case("/admin/roster/import/{token}", {"admin"},
                                        args=_upload_args),
    "admin.roster_import_confirm": Case("/admin/roster/import/{token}", {"admin"},
                                        method="POST", ok=(302,), args=_upload_args),
    "admin.roster_merge": Case("/admin/roster/merge", {"admin"}),
    "admin.roster_merge_confirm": Case("/admin/roster/merge", {"admin"}, method="POST",
                                       ok=(302,)),
    "admin.roster_merge_done": Case("/admin/roster/merges/{merge_id}", {"admin"},
                                    args=_merge_args),
    "admin.roster_merge_undo": Case("/admin/roster/merges/{merge_id}/undo", {"admin"},
                                    method="POST", ok=(302,), args=_merge_args),
    "admin.roster_template": Case("/admin/roster/template.xlsx", {"admin"}),
    "admin.roster_export": Case("/admin/roster/export/xlsx", {"admin"}, shows=every_student),
    "admin.audit_export": Case("/admin/audit/export/csv", {"admin"}),
    "students.export": Case("/students/export/xlsx", CASE_READERS, shows=seen_and_unseen),
}
