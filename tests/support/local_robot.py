"""A local WeCom/DingTalk-style webhook robot for the alert tests."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Robot:
    """A local WeCom/DingTalk-style robot: records POSTed JSON, answers with the status it is told."""

    def __init__(self):
        self.posts, self.status = [], 200
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.posts.append((self.path, json.loads(body)))
                self.send_response(robot.status)
                self.end_headers()
                self.wfile.write(b'{"errcode":0,"errmsg":"ok"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send?access_token=t"

    def texts(self) -> list[str]:
        return [body["markdown"]["text"] for _, body in self.posts]
