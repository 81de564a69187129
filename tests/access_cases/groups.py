"""Class group robots: a counsellor sets those of the classes of their own caseload."""

from tests.access_cases import Case

CLASS = "2017级会计学1班"
ROBOT = {"class_name": CLASS, "service": "wecom",
         "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123-abcd"}

CASES = {
    "groups.index": Case("/groups/", {"counsellor"}),
    "groups.set_robot": Case("/groups/robot", {"counsellor"}, method="POST", data=ROBOT,
                             ok=(302,), writes="class_groups"),
    "groups.remove_robot": Case("/groups/robot/remove", {"counsellor"}, method="POST",
                                data={"class_name": CLASS}, ok=(302,)),
}
