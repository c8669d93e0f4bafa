"""A front end's end of the command channel (session/control.py): commands out, answers and
the run's events in."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.session import wire
from maestro_tui.session.control import LINE_LIMIT


class EngineGone(ConnectionError):
    """The engine driving the run is not there (it finished, stopped, or was killed)."""


class ControlClient:
    """One connection to a run's engine. `on_event` gets each event once `follow()` is asked."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.on_event: Callable[[ev.Event], None] = lambda event: None
        self.gone = asyncio.Event()  # set when the engine closes the connection
        self._read_task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, path: Path) -> ControlClient:
        try:
            reader, writer = await asyncio.open_unix_connection(str(path), limit=LINE_LIMIT)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise EngineGone(f"no engine listens at {path}") from exc
        return cls(reader, writer)

    async def call(self, cmd: str, **args: Any) -> Any:
        """Send a command; its answer, or the engine's exception raised here."""
        if self.gone.is_set():
            raise EngineGone("the run's engine has stopped")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        line = json.dumps({"id": request_id, "cmd": cmd, "args": args}, separators=(",", ":"))
        try:
            self._writer.write(line.encode() + b"\n")
            await self._writer.drain()
        except ConnectionError as exc:
            self._waiting.pop(request_id, None)
            raise EngineGone("the run's engine has stopped") from exc
        return await future

    async def follow(self) -> None:
        """From now on, every event the engine emits goes to `on_event`."""
        await self.call("follow")

    async def _read(self) -> None:
        try:
            while line := await self._reader.readline():
                message = json.loads(line)
                if "event" in message:
                    self.on_event(ev.event_from_dict(message["event"]))
                    continue
                future = self._waiting.pop(message.get("id"), None)
                if future is None or future.done():
                    continue
                if message.get("ok"):
                    future.set_result(wire.decode(message.get("result")))
                else:
                    error = wire.decode_error(
                        message["error"], message["message"], message.get("data")
                    )
                    future.set_exception(error)
        except (ConnectionError, ValueError):
            pass
        finally:
            self.gone.set()
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(EngineGone("the run's engine has stopped"))
            self._waiting.clear()

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()
        self._read_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._read_task
