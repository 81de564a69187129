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

CASES = {
    "main.index": Case("/", set(ROLES), ok=(200, 302), prepare=rechecks_for_everyone,
                       shows=lambda world, role: (counsellor_sees_own(world, role)
                                                  if role == "counsellor" else ([], []))),
    "auth.logout": Case("/logout", set(ROLES), method="POST", ok=(302,)),
    "auth.account": Case("/account", set(ROLES)),
    "auth.password": Case("/account/password", set(ROLES)),
    "main.dashboard": Case("/dashboard", {"counsellor", "deputy"}),
    "main.activity": Case("/dashboard/activity/follow_up?day=2020-02-10", {"counsellor", "deputy"},
                          prepare=follow_ups_for_everyone, shows=counsellor_sees_own),
    "students.index": Case("/students/", CASE_READERS, shows=seen_and_unseen),
    "students.detail": Case("/students/{student}", CASE_READERS),
    "admin.users": Case("/admin/users", {"admin"}),
    "admin.new_user": Case("/admin/users/new", {"admin"}),
    "admin.edit_user": Case("/admin/users/{user}", {"admin"}),
    "admin.roster": Case("/admin/roster", {"admin"}, shows=every_student),
    "admin.categories": Case("/admin/categories", {"admin"}),
    "admin.edit_category": Case("/admin/categories/new", {"admin"}),
    "admin.status_rules": Case("/admin/status-rules", {"admin"}),
    "admin.edit_status_rule": Case("/admin/status-rules/1", {"admin"}),
    "admin.edit_risk_area": Case("/admin/risk-areas/new", {"admin"}),
}
