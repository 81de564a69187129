from tests.access_cases import Case

CASES = {
    "review.index": Case("/review/", {"deputy"}),
    "review.review": Case("/review/{student}", {"deputy"}),
    "review.flag": Case(
        "/review/flag/{student}", {"counsellor"}, method="POST", data={"reason": "情绪低落"},
        ok=(302,),
    ),
}
