"""TEST DOUBLE: a loopback HTTP server speaking the OpenAI chat-completions protocol.

It is not a model. It answers each request from a per-row script of behaviours, so tests
and benchmarks can inject faults into the captioning client deterministically:

- ``ok``: a valid annotation naming the row; ``slow``: the same after ``slow_s`` seconds;
- ``timeout``: sleeps ``hang_s`` seconds (longer than the client's timeout), then answers;
- ``500`` / ``503`` / ``400``: that HTTP status; ``429``: 429 with ``Retry-After: retry_after``;
- ``drop``: closes the connection without a response;
- ``badjson``: HTTP 200 whose content is not JSON; ``badschema``: JSON that breaks the rules.

A request's row is the ``[row:ID]`` tag found in its prompt text; its attempt number counts
every request seen for that row (transport retries and the repair re-ask included). Requests
are validated like a strict server would (model, image data URL, json_schema response
format) and logged in ``server.log`` for assertions.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

ROW = re.compile(r"\[row:([A-Za-z0-9_-]+)\]")


def valid_answer(row: str) -> dict:
    """A rule-abiding annotation that names ``row`` (so mixed-up rows are detectable)."""
    return {
        "summary_caption": f"Panel {row} shows a focal lesion in the left upper lobe of the lung.",
        "detailed_report": f"Axial CT of row {row}: a focal lesion lies in the left upper lobe.",
        "region_extraction": "focal|lesion|left upper",
        "negative_variations": ["diffuse|lesion|left upper", "focal|lesion|right upper",
                                "focal|lesion|left lower", "multifocal|lesion|left upper",
                                "focal|lesion|right lower"],
    }


def rule_breaking_answer(row: str) -> dict:
    answer = valid_answer(row)
    answer["summary_caption"] = f"Row {row}, short; wrong"
    return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms Nagle stall

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status: int, payload: dict | str, headers: dict | None = None) -> None:
        body = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to deliver

    def do_GET(self):
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": self.server.double.model_id, "object": "model"}]})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": "not found"})
        status, payload, headers = self.server.double.respond(body)
        if status == 0:  # "drop": hang up without an answer
            self.close_connection = True
            return
        self._send(status, payload, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # read by listen() at bind time: many clients connect at once


class OpenAITestDouble:
    """Start with ``with OpenAITestDouble() as server:``; ``server.base_url`` ends in ``/v1``."""

    def __init__(self, model_id: str = "test-double-vl", hang_s: float = 1.0, slow_s: float = 0.2,
                 retry_after: str = "0", fail_first: int = 0):
        self.model_id = model_id
        self.fail_first = fail_first  # the first N requests of all rows get 503: an endpoint still warming up
        self.hang_s, self.slow_s, self.retry_after = hang_s, slow_s, retry_after
        self.script: dict[str, list[str]] = {}
        self.log: list[dict] = []
        self._attempts: dict[str, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd: _Server | None = None

    # -- request handling -------------------------------------------------------------------
    def _check(self, body: dict) -> tuple[str, tuple[int, int]]:
        """The row tag and the image size (pixels); raise ValueError on a malformed request."""
        if body.get("model") != self.model_id:
            raise ValueError(f"unknown model {body.get('model')!r}")
        fmt = body.get("response_format") or {}
        if fmt.get("type") != "json_schema" or "schema" not in fmt.get("json_schema", {}):
            raise ValueError("response_format json_schema missing")
        parts = body["messages"][0]["content"]
        url = next(p["image_url"]["url"] for p in parts if p["type"] == "image_url")
        prefix = "data:image/jpeg;base64,"
        if not url.startswith(prefix):
            raise ValueError("image is not a JPEG data URL")
        with Image.open(io.BytesIO(base64.b64decode(url[len(prefix):]))) as img:
            size = img.size
        text = " ".join(p["text"] for p in parts if p["type"] == "text")
        match = ROW.search(text)
        return (match.group(1) if match else "anon"), size

    def respond(self, body: dict) -> tuple[int, dict | str, dict]:
        try:
            row, size = self._check(body)
        except (ValueError, KeyError, StopIteration, OSError) as exc:
            return 400, {"error": {"message": str(exc)}}, {}
        with self._lock:
            attempt = self._attempts.get(row, 0)
            self._attempts[row] = attempt + 1
            script = self.script.get(row, ["ok"])
            action = "503" if len(self.log) < self.fail_first else script[min(attempt, len(script) - 1)]
            self.log.append({"row": row, "attempt": attempt, "action": action, "image_size": size,
                             "repair": len(body["messages"]) > 1, "t": time.monotonic()})
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._act(action, row)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _act(self, action: str, row: str) -> tuple[int, dict | str, dict]:
        if action in ("slow", "timeout"):
            time.sleep(self.slow_s if action == "slow" else self.hang_s)
        if action in ("500", "503", "400"):
            return int(action), {"error": {"message": f"injected {action}"}}, {}
        if action == "429":
            return 429, {"error": {"message": "rate limited"}}, {"Retry-After": self.retry_after}
        if action == "drop":
            return 0, "", {}
        content = {"badjson": "{\"summary_caption\": \"unterminated",
                   "badschema": json.dumps(rule_breaking_answer(row))}.get(action)
        content = content or json.dumps(valid_answer(row))
        return 200, {"id": f"chatcmpl-{row}", "object": "chat.completion", "model": self.model_id,
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": content}}]}, {}

    # -- lifecycle --------------------------------------------------------------------------
    def requests_for(self, row: str) -> list[dict]:
        return [e for e in self.log if e["row"] == row]

    def start(self, port: int = 0) -> str:
        """Serve on ``port`` (0: any free one); a test may start it late on a port chosen earlier."""
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.double = self
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OpenAITestDouble:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
