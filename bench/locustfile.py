"""The 50-user mix of bench/load.py: counsellors browsing their pages and logging follow-ups
(with the form's CSRF token and submission key), the deputy secretary on the college's pages.

Run by bench/load.py, which builds the database, starts gunicorn and signs the accounts in;
it hands over the sessions and the students to visit in $BENCH_LOAD_PLAN (a JSON file):
``{"counsellors": [{"cookie": ..., "students": [ids]}], "deputy": {"cookie": ...}}``.

Production sends the session only over HTTPS; the users send the cookie back themselves on the
loopback's plain HTTP, and keep the re-signed one the server sets.
"""

import json
import os
import random
import re
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())
INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'(name|value|type)="([^"]*)"')
#: The college's clock (Asia/Shanghai has no summer time).
COLLEGE = timedelta(hours=8)


def hidden_fields(html: str) -> dict:
    """The form's hidden inputs (CSRF token, submission key, next)."""
    fields = {}
    for tag in INPUT.findall(html):
        attributes = dict(ATTRIBUTE.findall(tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = attributes.get("value", "")
    return fields


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(float(os.environ.get("BENCH_WAIT_MIN", 0.5)),
                        float(os.environ.get("BENCH_WAIT_MAX", 1.5)))
    cookie = ""

    def page(self, path: str, name: str | None = None):
        with self.client.get(path, name=name or path, headers={"Cookie": self.cookie},
                             allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            self.keep(response)
            return response

    def keep(self, response) -> None:
        fresh = response.headers.get("Set-Cookie", "")
        if fresh.startswith("__Host-caretrack="):
            self.cookie = fresh.split(";", 1)[0]


class Counsellor(SignedIn):
    weight = 4

    def on_start(self):
        mine = random.choice(PLAN["counsellors"])
        self.cookie = mine["cookie"]
        self.students = mine["students"]

    @task(3)
    def landing(self):
        self.page("/")

    @task(3)
    def caseload(self):
        self.page("/students/")

    @task(4)
    def student(self):
        self.page(f"/students/{random.choice(self.students)}", name="/students/<id>")

    @task(2)
    def rechecks(self):
        self.page("/rechecks/")

    @task(2)
    def daily(self):
        self.page("/reports/daily/")

    @task(1)
    def follow_up(self):
        path = f"/students/{random.choice(self.students)}/follow-ups/new"
        form = self.page(path, name="/students/<id>/follow-ups/new")
        if form.status_code != 200:
            return
        when = datetime.now(UTC) + COLLEGE - timedelta(minutes=5)
        data = hidden_fields(form.text) | {
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"), "channel": "phone", "reached": "1",
            "health": "normal", "body": "电话联系，情况正常", "check_again_in_days": "3",
        }
        with self.client.post(path, data=data, name="/students/<id>/follow-ups/new",
                              headers={"Cookie": self.cookie}, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"{response.status_code}")
            self.keep(response)


class Deputy(SignedIn):
    weight = 1

    def on_start(self):
        self.cookie = PLAN["deputy"]["cookie"]

    @task(3)
    def landing(self):
        self.page("/", name="deputy /")

    @task(2)
    def review(self):
        self.page("/review/")

    @task(1)
    def sign_off(self):
        # 经管学院 has the merge stage: the deputy checks the merged report (the board of the
        # counsellors' reports is the league secretary's).
        self.page("/reports/sign-off/")
