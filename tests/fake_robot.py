"""A local HTTP server that answers like 企业微信's and DingTalk's group robot webhooks, as
they document: success, rate-limited, a bad key, a refused signature, or no answer in time."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ANSWERS = {
    "wecom": {"ok": {"errcode": 0, "errmsg": "ok"},
              "rate-limited": {"errcode": 45009, "errmsg": "api freq out of limit"},
              "bad-key": {"errcode": 93000, "errmsg": "invalid webhook url"}},
    "dingtalk": {"ok": {"errcode": 0, "errmsg": "ok"},
                 "rate-limited": {"errcode": 130101, "errmsg": "send too fast"},
                 "refused": {"errcode": 310000, "errmsg": "sign not match"},
                 "bad-key": {"errcode": 300001, "errmsg": "token is not exist"}},
}


class FakeRobot:
    """``answer``: what the next posts get ("ok", "rate-limited", "bad-key", "refused",
    "timeout": no answer for ``delay`` seconds); ``posts``: what was posted."""

    def __init__(self):
        self.answer, self.delay, self.posts = "ok", 2.0, []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                url = urlparse(self.path)
                service = url.path.strip("/").split("/")[0]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.posts.append({"service": service, "query": parse_qs(url.query),
                                    "json": body})
                if robot.answer == "timeout":
                    time.sleep(robot.delay)
                answer = ANSWERS[service].get(robot.answer, ANSWERS[service]["ok"])
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def prefixes(self) -> dict[str, str]:
        return {"wecom": f"{self.base}/wecom/cgi-bin/webhook/send?key=",
                "dingtalk": f"{self.base}/dingtalk/robot/send?access_token="}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
