"""A loopback OpenAI-compatible chat server for the litellm tests: scripted, recording, SSE."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: an error status, or streamed text and tool calls with usage."""

    text: str = ""
    tool_calls: list[tuple[str, Any]] = field(default_factory=list)  # (name, dict or raw str)
    usage: tuple[int, int] | None = (12, 7)
    status: int = 200
    error_body: str = ""
    delay_s: float = 0.0  # before the response starts
    chunk_chars: int = 5


Responder = Callable[[dict[str, Any]], Reply]


@contextmanager
def serving(responder: Responder) -> Iterator[FakeChatServer]:
    """A started server answering with `responder`, stopped afterwards."""
    srv = FakeChatServer().start()
    srv.responder = responder
    try:
        yield srv
    finally:
        srv.stop()


class FakeChatServer:
    """Serves /v1/chat/completions from a queue of Replies (or a responder); records bodies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._queue: deque[Reply] = deque()
        self.responder: Responder | None = None
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(body)
        return Reply(text="(no scripted reply)")


def sse_chunks(reply: Reply, model: str) -> Iterator[dict[str, Any]]:
    """The chat.completion.chunk objects of a streamed reply, usage last with no choices."""
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    n = reply.chunk_chars
    for i in range(0, len(reply.text), n):
        yield chunk({"content": reply.text[i : i + n]})
    for index, (name, args) in enumerate(reply.tool_calls):
        raw = args if isinstance(args, str) else json.dumps(args)
        head = {"index": index, "id": f"call_{index}", "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
        for i in range(0, len(raw), n * 3):
            part = {"index": index, "function": {"arguments": raw[i : i + n * 3]}}
            yield chunk({"tool_calls": [part]})
    yield chunk({}, "tool_calls" if reply.tool_calls else "stop")
    if reply.usage is not None:
        tin, tout = reply.usage
        usage = {"prompt_tokens": tin, "completion_tokens": tout, "total_tokens": tin + tout}
        yield {**base, "choices": [], "usage": usage}


def _make_handler(server: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per call

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            server.headers.append(dict(self.headers))
            reply = server.next_reply(body)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.status != 200:
                payload = reply.error_body or json.dumps(
                    {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}
                )
                data = payload.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            model = str(body.get("model", "fake"))
            try:
                for item in sse_chunks(reply, model):
                    self.wfile.write(b"data: " + json.dumps(item).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler
