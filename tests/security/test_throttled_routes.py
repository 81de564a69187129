"""The same limiter guards the students' check-in verification (on top of the database's own
count of wrong identities) and the calendar feed."""

from tests.test_checkin import (
    class_url,
    student,  # noqa: F401  (a fixture)
    verify,
)


def test_wrong_identities_from_one_address_wait(app, client, student):  # noqa: F811
    app.config["CHECKIN_FAILURE_LIMIT"] = "3 per 15 minutes"
    try:
        url = class_url(student)
        codes = [verify(client, url, f"99{i}", "0000").status_code for i in range(4)]
        assert codes == [200, 200, 200, 429]
        # the right identity waits too, from this address; another address goes on
        assert verify(client, url, student.student_number, "5678").status_code == 429
        other = client.post(url + "/verify", data={"student_number": student.student_number,
                                                   "phone_digits": "5678"},
                            environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert other.status_code == 302
    finally:
        app.config["CHECKIN_FAILURE_LIMIT"] = "60 per 15 minutes"


def test_guessing_calendar_tokens_waits_after_ten_misses(client, college):
    codes = [client.get(f"/calendar/guess{i}.ics").status_code for i in range(11)]
    assert codes == [404] * 10 + [429]
    assert "尝试次数过多" in client.get("/calendar/x.ics").get_data(as_text=True)
    # a real feed from another address is served
    token = college.counsellor.calendar_token
    assert client.get(f"/calendar/{token}.ics",
                      environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 200
