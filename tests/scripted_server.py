"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 that injects faults, for offline tests.

Real sockets, not a mocked client: each request consumes the next scripted fault (500, 429
with Retry-After, empty or missing content, non-JSON, dropped connection, a slow reply);
when the script runs out it forwards to an upstream server or answers a fixed reply.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Sequence

FAULTS = ("500", "503", "429", "empty", "none", "no-choices", "garbage", "drop", "slow", "404", "truncated")


def chat_completion(content: str | None, model: str = "scripted") -> dict[str, Any]:
    """A minimal chat.completion body as OpenAI-compatible servers send it."""
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }


class ScriptedServer:
    """`with ScriptedServer(["500", "429:1", "empty"], upstream=url) as server: server.base_url`.

    Faults: "500"/"503"/"404" status with an error body; "429[:secs]" with Retry-After;
    "empty" (content ""), "none" (content null), "no-choices", "garbage" (200, not JSON);
    "drop" (close the connection without answering); "slow[:secs]" (answer late);
    "truncated" (a 200 whose body stops halfway, then the connection closes).
    `upstream` is another server's base URL ending in /v1; without it, requests past the
    script get `reply` (a string, or a function of the request body). `requests` records
    every request body received and `headers` their headers. `port` 0 picks a free port; a
    fixed one lets a test bring an endpoint back at the address a run was configured with.
    """

    def __init__(
        self,
        faults: Sequence[str] = (),
        upstream: str | None = None,
        reply: str | Callable[[dict[str, Any]], str] = "Thanks, that works.",
        port: int = 0,
    ) -> None:
        for fault in faults:
            if fault.split(":", 1)[0] not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; choices: {', '.join(FAULTS)}")
        self._faults = list(faults)
        self._lock = threading.Lock()
        self.upstream = upstream.rstrip("/") if upstream else None
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        # A short poll interval so `shutdown` returns in ~50 ms instead of the default 0.5 s.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                if server.upstream:
                    self._forward(None)
                else:
                    self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                fault = server._next_fault()
                if fault is None:
                    if server.upstream:
                        self._forward(raw)
                    else:
                        self._send(200, chat_completion(server._reply(body), body.get("model", "scripted")))
                    return
                self._inject(fault, body)

            def _inject(self, fault: str, body: dict[str, Any]) -> None:
                name, _, arg = fault.partition(":")
                model = body.get("model", "scripted")
                if name in ("500", "503", "404"):
                    self._send(int(name), {"error": {"message": f"scripted {name}", "type": "server_error"}})
                elif name == "429":
                    headers = {"Retry-After": arg or "1"}
                    self._send(429, {"error": {"message": "scripted rate limit", "type": "rate_limit"}}, headers)
                elif name == "empty":
                    self._send(200, chat_completion("", model))
                elif name == "none":
                    self._send(200, chat_completion(None, model))
                elif name == "no-choices":
                    self._send(200, {**chat_completion("x", model), "choices": []})
                elif name == "garbage":
                    self._send_raw(200, b"<html>not json</html>", "application/json")
                elif name == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif name == "truncated":
                    whole = json.dumps(chat_completion(server._reply(body), model)).encode()
                    self._send_raw(200, whole[: len(whole) // 2], "application/json", length=len(whole))
                    self.close_connection = True
                elif name == "slow":
                    time.sleep(float(arg or 5))
                    self._send(200, chat_completion(server._reply(body), model))

            def _forward(self, raw: bytes | None) -> None:
                assert server.upstream is not None
                path = self.path[len("/v1") :] if self.path.startswith("/v1") else self.path
                request = urllib.request.Request(
                    server.upstream + path,
                    data=raw,
                    method="POST" if raw is not None else "GET",
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=120) as reply:
                        self._send_raw(reply.status, reply.read(), reply.headers.get("content-type", ""))
                except urllib.error.HTTPError as error:
                    self._send_raw(error.code, error.read(), error.headers.get("content-type", ""))
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    self.close_connection = True
                    self.connection.shutdown(2)

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

            def _send_raw(
                self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None,
                length: int | None = None,
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type or "application/json")
                    self.send_header("Content-Length", str(len(data) if length is None else length))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout fired): nothing left to answer

        return Handler
