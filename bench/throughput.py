"""Requests per second of the hot pages, against gunicorn in the production configuration.

    .venv/bin/python bench/throughput.py [--database sqlite:////path/to/pages.db] [--keep]
                                         [--workers 2] [--threads 2] [--connections 16]
                                         [--seconds 10] [--redis redis://127.0.0.1:6379/5]
                                         [--only PATH] [--no-interleave]

Seeds the demo college into a SQLite file of its own in a scratch directory (``seed_demo``,
as bench/pages.py does: the season up to 10:30 on the college's today), or measures the
database given by --database (its URL; kept; a PostgreSQL one too). Then it serves the app
with gunicorn (``--no-control-socket``, --workers sync workers, the production configuration
with a SECRET_KEY generated for the run and the sign-in throttling in Redis database 5), signs
in as counsellor1 and as the deputy secretary over HTTP, and runs wrk (``-t2 -c16 -d10s`` by
default) against a trivial route of the app itself (``/healthz``: the app, its middleware and
one ``SELECT 1``) and each hot page, one after the other in one run.

Signing in is the production sign-in, unchanged: the CSRF token from the form, the password,
and for the deputy the second factor (the script gives the deputy, in its own database, a TOTP
secret and sends the current code). Production sends the session only over HTTPS
(``__Host-caretrack``, ``Secure``): the script reads the cookie from ``Set-Cookie`` and sends
it back itself, on the loopback, so nothing of the configuration is relaxed for the bench.

Prints, for each page, the requests per second, the ratio to the trivial route measured just
before it (the robust figure on a shared machine: both are measured within 20 s; the trivial
route's own line is its first run), the mean latency and any
answer that was not 200; and the load average before and after. Target (issue 21): every hot
page at least 400 req/s on 2 sync workers with the demo college on SQLite (about 0.09 x the
trivial route on a quiet 2-core machine).

wrk comes from Debian (``apt-get install wrk``); the script installs it when it is missing.
"""

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkin import free_port, start_gunicorn, stop_gunicorn  # noqa: E402
from bench.databases import make_app, server_tracebacks  # noqa: E402

#: The workers' shared throttling, as production runs it (this bench's own database: not 0).
REDIS = "redis://127.0.0.1:6379/5"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
#: The deputy's second factor in the bench's database (any base32 secret will do).
DEPUTY_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TARGET = 400.0


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it (apt-get install wrk) ...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def seed(url: str) -> None:
    """The demo college, seeded through the services up to 10:30 today (as bench/pages.py)."""
    from bench.pages import build, seeded_until

    app = make_app(url)
    start = time.perf_counter()
    build(app, 0, seeded_until(app, "10:30"))
    print(f"demo college seeded in {time.perf_counter() - start:.0f} s", flush=True)
    with app.app_context():
        from caretrack.extensions import db

        db.engine.dispose()


def prepare(url: str) -> dict:
    """Give the deputy the bench's second factor; pick the student page to measure."""
    from sqlalchemy import select, update

    from bench.pages import subjects
    from caretrack.extensions import db
    from caretrack.models import User

    app = make_app(url)
    chosen = subjects(app)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "deputy")
                           .values(totp_secret=DEPUTY_TOTP, totp_last_step=None))
        db.session.commit()
        chosen["deputy_has_2fa"] = bool(db.session.scalar(
            select(User.totp_secret).where(User.username == "deputy")))
        db.session.remove()
        db.engine.dispose()
    return chosen


class Browser:
    """A signed-in user over plain HTTP that keeps the production cookies itself (httpx would
    not send a ``Secure`` cookie over http://)."""

    def __init__(self, base: str):
        import httpx

        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    def _keep(self, response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in header.lower() or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def get(self, path: str):
        response = self.http.get(path, headers={"Cookie": self.cookie_header})
        self._keep(response)
        return response

    def post(self, path: str, data: dict):
        response = self.http.post(path, data=data, headers={"Cookie": self.cookie_header})
        self._keep(response)
        return response

    def sign_in(self, username: str, password: str, totp: str | None = None) -> None:
        form = self.get("/login")
        token = CSRF.search(form.text)
        if token is None:
            raise SystemExit(f"no CSRF token on the sign-in page ({form.status_code})")
        answer = self.post("/login", {"csrf_token": token.group(1), "username": username,
                                      "password": password, "next": ""})
        if answer.status_code != 302:
            raise SystemExit(f"could not sign in as {username}: {answer.status_code}")
        if answer.headers["location"].endswith("/login/two-factor"):
            import pyotp

            page = self.get("/login/two-factor")
            token = CSRF.search(page.text)
            answer = self.post("/login/two-factor", {
                "csrf_token": token.group(1), "code": pyotp.TOTP(totp).now()})
            if answer.status_code != 302:
                raise SystemExit(f"second factor refused for {username}: {answer.status_code}")
        if not self.cookies:
            raise SystemExit(f"no session cookie for {username}")


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_LATENCY = re.compile(r"Latency\s+([\d.]+)(us|ms|s)")
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors:.*")
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(wrk: str, url: str, cookie: str, args) -> dict:
    """One wrk run against ``url``; return req/s, mean latency (ms), non-2xx and errors."""
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
               "--timeout", "30s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = WRK_LATENCY.search(out)
    non_2xx = WRK_NON_2XX.search(out)
    errors = WRK_ERRORS.search(out)
    return {
        "rate": float(WRK_RATE.search(out).group(1)),
        "latency_ms": float(latency.group(1)) * UNIT_MS[latency.group(2)] if latency else 0.0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": errors.group(0) if errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="measure this database (its URL), already built")
    parser.add_argument("--keep", action="store_true", help="keep the seeded SQLite file")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (-c)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page (-d)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", REDIS),
                        help="Redis for the workers' shared throttling (never database 0)")
    parser.add_argument("--only", help="measure only the pages whose path contains this")
    parser.add_argument("--no-interleave", dest="interleave", action="store_false",
                        help="measure the trivial route once, first, instead of just before "
                        "each page (each page's ratio is to the trivial run before it)")
    args = parser.parse_args()

    from caretrack.demo import DEMO_PASSWORD

    wrk = ensure_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="caretrack-throughput-"))
    url = args.database or f"sqlite:///{scratch / 'throughput.db'}"
    server = None
    try:
        if not args.database:
            print("seeding the demo college on sqlite ...", flush=True)
            seed(url)
        chosen = prepare(url)
        secret = secrets.token_urlsafe(48)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_gunicorn(url, secret, port, args.workers, scratch / "gunicorn.log",
                                args.redis, secure_cookies=True)
        counsellor, deputy = Browser(base), Browser(base)
        counsellor.sign_in("counsellor1", DEMO_PASSWORD)
        deputy.sign_in("deputy", DEMO_PASSWORD, totp=DEPUTY_TOTP)
        pages = [
            ("-", "/healthz", None),
            ("counsellor1", "/", counsellor),
            ("counsellor1", "/students/", counsellor),
            ("counsellor1", f"/students/{chosen['busy_id']}", counsellor),
            ("counsellor1", "/rechecks/", counsellor),
            ("counsellor1", "/reports/daily/", counsellor),
            ("deputy", "/", deputy),
            ("deputy", "/review/", deputy),
        ]
        if args.only:
            pages = pages[:1] + [p for p in pages[1:] if args.only in p[1]]
        engine = url.split(":", 1)[0].split("+", 1)[0]
        print(f"\n{engine}: {chosen['students']:,} students; gunicorn {args.workers} sync "
              f"workers, production configuration; wrk -t{args.threads} -c{args.connections} "
              f"-d{args.seconds}s; {os.cpu_count()} cores; load average before "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        print(f"{'who':<12} {'page':<22} {'req/s':>8} {'ratio':>7} {'latency':>9}  notes")
        trivial = None
        ok = True
        for who, path, browser in pages:
            if browser is not None:
                check = browser.get(path)
                if check.status_code != 200:
                    print(f"{who:<12} {path:<22} answered {check.status_code}: skipped")
                    ok = False
                    continue
                if args.interleave:  # the trivial route again, just before this page
                    trivial = run_wrk(wrk, base + "/healthz", "", args)["rate"]
            figures = run_wrk(wrk, base + path, browser.cookie_header if browser else "", args)
            if trivial is None:
                trivial = figures["rate"]
            ratio = figures["rate"] / trivial if trivial else float("nan")
            notes = []
            if figures["non_2xx"]:
                notes.append(f"{figures['non_2xx']} answers not 2xx/3xx")
                ok = False
            if figures["errors"]:
                notes.append(figures["errors"])
                ok = False
            if browser is not None and figures["rate"] < TARGET:
                notes.append(f"under {TARGET:.0f} req/s")
            print(f"{who:<12} {path:<22} {figures['rate']:>8.0f} {ratio:>7.3f} "
                  f"{figures['latency_ms']:>6.1f} ms  {'; '.join(notes)}", flush=True)
        print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if server_tracebacks(scratch / "gunicorn.log"):
            ok = False
    finally:
        if server is not None:
            stop_gunicorn(server)
        if args.keep and not args.database:
            print(f"\nkept: {url}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
