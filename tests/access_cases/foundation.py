from tests.access_cases import (
    CASE_READERS,
    ROLES,
    Case,
    counsellor_sees_own,
    every_student,
    follow_ups_for_everyone,
    rechecks_for_everyone,
    seen_and_unseen,
)

#: A college's admin manages the college's accounts; the university admin the admins.
ACCOUNT_MANAGERS = {"admin", "university_admin"}


def account_args(world, role):
    """An account the role manages, and one it does not: a college's admin, their college's
    counsellor and another college's admin; the university admin, a college's admin and a
    counsellor."""
    c = world.college
    if role == "admin":
        return {"user": c.counsellor.id}, {"user": c.foreign_admin.id}
    if role == "university_admin":
        return {"user": c.foreign_admin.id}, {"user": c.counsellor.id}
    return {"user": world.user(role).id}, None


CASES = {
    "main.index": Case("/", set(ROLES), ok=(200, 302), prepare=rechecks_for_everyone,
                       shows=lambda world, role: (counsellor_sees_own(world, role)
                                                  if role == "counsellor" else ([], []))),
    "auth.logout": Case("/logout", set(ROLES), method="POST", ok=(302,)),
    "auth.account": Case("/account", set(ROLES)),
    "auth.password": Case("/account/password", set(ROLES)),
    "auth.account_two_factor": Case("/account/two-factor", set(ROLES)),
    "auth.account_recovery_codes": Case("/account/two-factor/recovery-codes", set(ROLES),
                                        method="POST", ok=(302,)),
    "auth.account_two_factor_off": Case("/account/two-factor/off", set(ROLES), method="POST",
                                        ok=(302,)),
    "main.dashboard": Case("/dashboard", {"counsellor", "deputy", "secretary"}),
    "main.activity": Case("/dashboard/activity/follow_up?day=2020-02-10",
                          {"counsellor", "deputy", "secretary"},
                          prepare=follow_ups_for_everyone, shows=counsellor_sees_own),
    "students.index": Case("/students/", CASE_READERS, shows=seen_and_unseen),
    "students.detail": Case("/students/{student}", CASE_READERS),
    "admin.users": Case("/admin/users", ACCOUNT_MANAGERS),
    "admin.new_user": Case("/admin/users/new", ACCOUNT_MANAGERS),
    "admin.edit_user": Case("/admin/users/{user}", ACCOUNT_MANAGERS, args=account_args),
    "admin.roster": Case("/admin/roster", {"admin"}, shows=every_student),
    "admin.categories": Case("/admin/categories", {"admin"}),
    "admin.edit_category": Case("/admin/categories/new", {"admin"}),
    "admin.status_rules": Case("/admin/status-rules", {"admin"}),
    "admin.edit_status_rule": Case("/admin/status-rules/1", {"admin"}),
    "admin.edit_risk_area": Case("/admin/risk-areas/new", {"admin"}),
}
