"""The shared core of the loopback model servers: scripted turns, faults, a log of requests.

Each API (Anthropic Messages, OpenAI Responses, Gemini, OpenAI Chat) is a thin `ApiAdapter`
that says which requests are model turns and how a `Turn` or a `Fault` looks on its wire; the
`ModelServer` here does the HTTP, the script, the fault queue and the recording for all four.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from tests.agents.netns import NetNamespace


@dataclass(frozen=True)
class ToolCall:
    """A tool call in the CLI's own vocabulary: JSON arguments, or raw text for free-form tools."""

    name: str
    args: dict[str, Any] | str


@dataclass(frozen=True)
class Turn:
    """One model answer: text and/or tool calls; usage is estimated from sizes when None."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: tuple[int, int] | None = None


@dataclass(frozen=True)
class Fault:
    """An error answer instead of a turn.

    kind: "rate_limit" (429), "usage_limit" (429 with the API's quota/usage wording),
    "bad_key" (401), "server_error" (500), or "stall" (read the request, never answer).
    """

    kind: str
    retry_after_s: float | None = None


@dataclass(frozen=True)
class ToolResult:
    """A tool result the CLI sent back to the model, as the model sees it."""

    text: str
    is_error: bool = False


@dataclass
class RecordedRequest:
    """Everything a test may assert on about one request, and what the server answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    kind: str  # "turn" for model turns, "aux" for anything else the CLI asked
    model: str = ""
    workdir: str | None = None
    tool_results: list[ToolResult] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)
    status: int = 0
    fault: str | None = None
    usage: tuple[int, int] | None = None  # (input, output) tokens reported back


# A script step: a fixed turn, or a function of the request it answers (e.g. to build paths
# from the working directory the CLI announced, or to route concurrent requests by task);
# a function may answer with a Fault too.
Step = Turn | Callable[[RecordedRequest], Turn | Fault]
SseEvent = tuple[str | None, dict[str, Any]]  # (event name or None, JSON data)


class ApiAdapter:
    """How one API looks on the wire. Subclasses override what differs."""

    name = "api"
    # Request headers kept in the log (lower case): keys, versions, client identity.
    headers_of_interest: tuple[str, ...] = ("authorization", "user-agent", "content-type")

    def classify(self, method: str, path: str) -> str | None:
        """'turn' for a model call, 'aux' for another known request, None for a 404."""
        raise NotImplementedError

    def model_of(self, path: str, body: Any) -> str:
        return str(body.get("model", "")) if isinstance(body, dict) else ""

    def streams(self, path: str, query: dict[str, list[str]], body: Any) -> bool:
        return bool(isinstance(body, dict) and body.get("stream"))

    def workdir(self, body: Any) -> str | None:
        """The working directory the CLI told the model about, if any."""
        return None

    def tool_results(self, body: Any) -> list[ToolResult]:
        """The tool results in the latest message of the request."""
        return []

    def sse(self, turn: Turn, model: str, usage: tuple[int, int]) -> Iterator[SseEvent]:
        raise NotImplementedError

    def whole(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        raise NotImplementedError

    def error(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def error_headers(self, fault: Fault) -> dict[str, str]:
        """Response headers that go with an error (e.g. rate-limit state)."""
        return {}

    def aux(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """The answer to an 'aux' request: status and JSON (None for no body)."""
        return 200, None

    def done_marker(self) -> bytes:
        """Bytes after the last SSE event (Chat Completions sends `data: [DONE]`)."""
        return b""


def estimate_tokens(text: str) -> int:
    """About four characters per token, at least one: close enough for meters."""
    return max(1, len(text) // 4)


def estimated_usage(raw_body: bytes, turn: Turn) -> tuple[int, int]:
    out = turn.text + "".join(
        c.name + (c.args if isinstance(c.args, str) else json.dumps(c.args))
        for c in turn.tool_calls
    )
    return estimate_tokens(raw_body.decode("utf-8", "replace")), estimate_tokens(out)


class ModelServer:
    """A scripted, recording model server on a loopback port (optionally in a netns)."""

    def __init__(self, api: ApiAdapter, script: Iterable[Step] = ()) -> None:
        self.api = api
        self.requests: list[RecordedRequest] = []
        # Exceptions raised by callable steps (answered with a 500): a test should assert none.
        self.script_errors: list[BaseException] = []
        self.exhausted_text = "(the script is exhausted)"
        # Answers every request once the script is used up (e.g. one that routes concurrent
        # requests to per-task scripts); None: the exhausted text.
        self.router: Step | None = None
        self._steps: deque[Step] = deque(script)
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------------------------
    def script(self, *steps: Step) -> ModelServer:
        with self._lock:
            self._steps.extend(steps)
        return self

    def fail(self, fault: Fault | str, times: int = 1) -> ModelServer:
        """Answer the next `times` model turns with `fault` before the script goes on."""
        item = Fault(fault) if isinstance(fault, str) else fault
        with self._lock:
            self._faults.extend([item] * times)
        return self

    @property
    def turns(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == "turn"]

    def stalled_since(self, seconds: float) -> bool:
        """True once some request has been held unanswered (a stall) for `seconds`."""
        now = time.monotonic()
        return any(r.fault == "stall" and now - r.at >= seconds for r in list(self.requests))

    @property
    def pending_steps(self) -> int:
        return len(self._steps)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, netns: NetNamespace | None = None) -> ModelServer:
        """Listen on 127.0.0.1 (inside `netns` when given: the socket belongs to it)."""
        if netns is not None:
            with netns.entered():
                self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        else:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases stalled handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- answering -------------------------------------------------------------------------
    def _next(self, request: RecordedRequest) -> Turn | Fault:
        with self._lock:
            self.requests.append(request)
            if self._faults:
                return self._faults.popleft()
            step = self._steps.popleft() if self._steps else self.router
        if step is None:
            return Turn(text=self.exhausted_text)
        return step(request) if callable(step) else step


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
        raw = b"".join(parts)
    else:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    encoding = handler.headers.get("Content-Encoding", "").lower()
    if encoding == "gzip":
        raw = gzip.decompress(raw)
    elif encoding == "deflate":
        raw = zlib.decompress(raw)
    return raw


def _handler_for(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    api = server.api

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_HEAD(self) -> None:  # noqa: N802 (http.server API)
            self._record("aux", b"")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            self._serve()

        def do_POST(self) -> None:  # noqa: N802
            self._serve()

        def _record(self, kind: str, raw: bytes) -> RecordedRequest:
            parts = urlsplit(self.path)
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            headers = {
                k.lower(): v
                for k, v in self.headers.items()
                if k.lower() in api.headers_of_interest
            }
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers=headers,
                body=body,
                kind=kind,
                model=api.model_of(parts.path, body),
            )
            if kind == "turn":
                request.workdir = api.workdir(body)
                request.tool_results = api.tool_results(body)
            else:
                with server._lock:
                    server.requests.append(request)
            return request

        def _serve(self) -> None:
            raw = _read_body(self)
            path = urlsplit(self.path).path
            kind = api.classify(self.command, path)
            if kind is None:
                request = self._record("aux", raw)
                request.status = 404
                self._send_json(404, {"error": {"message": f"no route for {path}"}})
                return
            request = self._record(kind, raw)
            if kind == "aux":
                request.status, payload = api.aux(self.command, path, request.body)
                self._send_json(request.status, payload)
                return
            try:
                answer = server._next(request)
            except Exception as exc:
                server.script_errors.append(exc)
                request.status, request.fault = 500, f"script error: {exc!r}"
                self._send_json(500, {"error": {"message": f"script error: {exc!r}"}})
                return
            if isinstance(answer, Fault):
                self._send_fault(request, answer)
                return
            usage = answer.usage or estimated_usage(raw, answer)
            request.status, request.usage = 200, usage
            if api.streams(path, request.query, request.body):
                self._send_sse(api.sse(answer, request.model, usage))
            else:
                self._send_json(200, api.whole(answer, request.model, usage))

        def _send_fault(self, request: RecordedRequest, fault: Fault) -> None:
            request.fault = fault.kind
            if fault.kind == "stall":
                server._stopping.wait()  # never answer; the client's timeout or kill ends it
                self.close_connection = True
                return
            status, payload = api.error(fault)
            request.status = status
            extra = api.error_headers(fault)
            if fault.retry_after_s is not None:
                extra["Retry-After"] = f"{fault.retry_after_s:g}"
            self._send_json(status, payload, extra)

        def _send_json(
            self, status: int, payload: Any, extra: dict[str, str] | None = None
        ) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_sse(self, events: Iterator[SseEvent]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for name, data in events:
                    head = f"event: {name}\n".encode() if name else b""
                    self.wfile.write(head + b"data: " + json.dumps(data).encode() + b"\n\n")
                self.wfile.write(api.done_marker())
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


def chunks(text: str, size: int) -> Sequence[str]:
    """`text` in pieces of `size` characters (at least one piece, maybe empty)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
