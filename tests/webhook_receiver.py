"""A real webhook receiver on 127.0.0.1 (http.server in a thread), as a platform would run one:
it verifies each signature with the subscription's secret, drops duplicates by webhook-id, and
can be stopped and started again on the same port mid-stream, or made to answer 500."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.events: list[dict[str, Any]] = []  # accepted, first delivery of each id
        self.seen: set[str] = set()
        self.duplicates = 0
        self.refused = 0  # bad signatures
        self.failing = False  # answer 500 (a receiver that is up but broken)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver.accept(body, dict(self.headers)))
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accept(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            if self.failing:
                return 500
            try:
                event = Webhook(self.secret).verify(body, headers)
            except Exception:
                self.refused += 1
                return 400
            if event["id"] in self.seen:
                self.duplicates += 1
                return 204
            self.seen.add(event["id"])
            self.events.append(json.loads(body))
            return 204

    def types(self) -> list[str]:
        with self.lock:
            return [e["type"] for e in self.events]
