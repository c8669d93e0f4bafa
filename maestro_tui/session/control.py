"""The engine's command channel: a Unix socket through which attached front ends steer a run.

The engine process is the only writer of a run's events. A front end (the TUI, `stop`,
`approve`) sends it commands here and gets an answer; a front end that follows the run gets
every event as the engine emits it, so no one polls. One JSON object per line each way:

    → {"id": 7, "cmd": "pause", "args": {}}
    ← {"id": 7, "ok": true, "result": null}
    ← {"id": 8, "ok": false, "error": "MergeRefused", "message": "..."}
    → {"id": 9, "cmd": "follow", "args": {}}       (then, unasked:)
    ← {"event": {...}}                              (each event, in order, as Event.to_json)

The socket lives in a private folder of the user's runtime directory, named after the run and
its database, since a socket's path is limited to ~100 bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.session import wire

# A client this far behind on events is dropped; it catches up from the store when it returns.
MAX_BACKLOG = 8 * 1024 * 1024
LINE_LIMIT = 16 * 1024 * 1024  # a revised plan or a resolution can be long
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, with its terminating NUL

Send = Callable[..., Awaitable[Any]]  # (command, **its arguments) -> its answer


def control_path(db_path: Path, run_id: str) -> Path:
    """Where the engine driving `run_id` of the database `db_path` listens: the runtime
    directory, or the temporary one where that would make the path too long to bind."""
    digest = hashlib.sha256(f"{db_path.resolve()}\0{run_id}".encode()).hexdigest()[:24]
    name = f"maestro-tui-{os.getuid()}/{digest}.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and len(f"{runtime}/{name}") <= MAX_SOCKET_PATH:
        return Path(runtime) / name
    return Path(tempfile.gettempdir()) / name


class ControlServer:
    """Answers commands with `send` (session/commands.py) and sends every event of the bus
    to followers."""

    def __init__(self, path: Path, send: Send) -> None:
        self.path = path
        self.send = send
        self._server: asyncio.Server | None = None
        self._followers: set[asyncio.StreamWriter] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._clients: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by an engine that was killed
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=LINE_LIMIT
        )
        os.chmod(self.path, 0o600)

    def publish(self, event: ev.Event) -> None:
        """A bus subscriber: the event to every follower, at once, without waiting."""
        if not self._followers:
            return
        line = (json.dumps({"event": event.to_dict()}, separators=(",", ":")) + "\n").encode()
        for writer in list(self._followers):
            if writer.transport.get_write_buffer_size() > MAX_BACKLOG:
                self._followers.discard(writer)
                writer.close()
            else:
                writer.write(line)

    async def aclose(self) -> None:
        """Stop listening and hang up on every client (each then knows the engine is gone)."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._clients:
            await asyncio.wait(list(self._clients), timeout=1.0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing:  # accepted as the engine was closing
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                reply = await self._answer(line, writer)
                writer.write((json.dumps(reply, separators=(",", ":")) + "\n").encode())
                await writer.drain()
        except (ConnectionError, ValueError):
            pass  # the client went away mid-line: nothing to answer
        finally:
            self._followers.discard(writer)
            self._writers.discard(writer)
            self._clients.discard(task)
            writer.close()

    async def _answer(self, line: bytes, writer: asyncio.StreamWriter) -> dict[str, Any]:
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            cmd, args = request["cmd"], request.get("args") or {}
            if cmd == "follow":
                self._followers.add(writer)
                return {"id": request_id, "ok": True, "result": None}
            result = await self.send(cmd, **args)
            return {"id": request_id, "ok": True, "result": wire.encode(result)}
        except Exception as exc:  # the client learns what went wrong; the engine goes on
            return {"id": request_id, "ok": False, **wire.encode_error(exc)}
