"""The command channel on a real Unix socket: answers, the engine's exceptions rebuilt as the
same class, events to followers in order, and a follower too slow to read dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge import MergeNeedsResolution, MergeRefused, TrialMerge
from maestro_tui.engine.steering import SteerRefused
from maestro_tui.session import control
from maestro_tui.session.client import ControlClient, EngineGone
from maestro_tui.session.commands import Handler, table_sender
from maestro_tui.session.control import ControlServer, control_path
from maestro_tui.session.wire import EngineError
from maestro_tui.workspace.merge import ConflictFile, ConflictHunk
from maestro_tui.workspace.validate import TestResult

RESULT = TestResult(False, 1, 3, 1, 0.5, "1 failed", False, frozenset({"t::a"}))
CONFLICT = ConflictFile("a.py", (ConflictHunk("x\n", "o\n", "y\n", 3),), "<<<<<<<\n", "")


def handlers() -> dict[str, Handler]:
    async def answer(args: dict[str, Any]) -> Any:
        return args["value"]

    async def refuse(args: dict[str, Any]) -> Any:
        kind = args["kind"]
        if kind == "steer":
            raise SteerRefused("no agent at work on 'a'")
        if kind == "needs":
            raise MergeNeedsResolution("a", ("x.py", "y.py"))
        if kind == "refused":
            raise MergeRefused("a", "its merged tree fails 1 test", "FAILED t::a")
        if kind == "key":
            raise KeyError("no task 'zz'")
        raise OSError("disk full")

    async def trial(args: dict[str, Any]) -> Any:
        return TrialMerge("c0ffee", "7ree", RESULT)

    async def conflicts(args: dict[str, Any]) -> Any:
        return (CONFLICT,)

    return {"answer": answer, "refuse": refuse, "trial": trial, "conflicts": conflicts}


@pytest.fixture
async def server(tmp_path: Path) -> Any:
    srv = ControlServer(control_path(tmp_path / "m.db", "r1"), table_sender(handlers()))
    await srv.start()
    yield srv
    await srv.aclose()


def test_the_socket_path_stays_short_and_private_whatever_the_database_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 12) / "maestro.db"
    path = control_path(deep, "20261208-010203-abcd")
    assert len(str(path)) < 100
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep.parent))  # too long to bind under
    assert len(str(control_path(deep, "20261208-010203-abcd"))) < 100
    assert path != control_path(tmp_path / "other.db", "20261208-010203-abcd")


async def test_answers_come_back_as_the_engine_returned_them(server: ControlServer) -> None:
    client = await ControlClient.connect(server.path)
    try:
        assert await client.call("answer", value={"a": [1, 2]}) == {"a": [1, 2]}
        assert await client.call("trial") == TrialMerge("c0ffee", "7ree", RESULT)
        assert await client.call("conflicts") == (CONFLICT,)
        assert oct(server.path.stat().st_mode & 0o777) == "0o600"
    finally:
        await client.aclose()


async def test_the_engines_refusals_are_raised_here_as_the_same_class(
    server: ControlServer,
) -> None:
    client = await ControlClient.connect(server.path)
    try:
        with pytest.raises(SteerRefused, match="no agent at work"):
            await client.call("refuse", kind="steer")
        with pytest.raises(MergeNeedsResolution) as needs:
            await client.call("refuse", kind="needs")
        assert needs.value.files == ("x.py", "y.py") and "x.py, y.py" in str(needs.value)
        with pytest.raises(MergeRefused) as refused:
            await client.call("refuse", kind="refused")
        assert refused.value.output == "FAILED t::a"
        assert "fails 1 test" in str(refused.value)
        with pytest.raises(KeyError, match="no task 'zz'"):
            await client.call("refuse", kind="key")
        with pytest.raises(EngineError, match="disk full"):
            await client.call("refuse", kind="other")
        with pytest.raises(ValueError, match="unknown command 'nope'"):
            await client.call("nope")
        assert await client.call("answer", value=1) == 1  # the connection goes on
    finally:
        await client.aclose()


async def test_followers_get_every_event_in_order(server: ControlServer) -> None:
    bus = EventBus("r1")
    bus.subscribe(server.publish)
    first, second = (
        await ControlClient.connect(server.path),
        await ControlClient.connect(server.path),
    )
    got: dict[str, list[ev.Event]] = {"first": [], "second": []}
    done = {"first": asyncio.Event(), "second": asyncio.Event()}

    def into(name: str) -> Callable[[ev.Event], None]:
        def receive(event: ev.Event) -> None:
            got[name].append(event)
            if isinstance(event, ev.DispatchPaused):
                done[name].set()

        return receive

    first.on_event, second.on_event = into("first"), into("second")
    try:
        await first.follow()
        await second.follow()
        for n in range(200):
            bus.emit(ev.AgentOutput, task="a", attempt=1, text=f"line {n}")
        bus.emit(ev.DispatchPaused)
        await asyncio.wait_for(asyncio.gather(*(d.wait() for d in done.values())), 5)
        for events in got.values():
            assert [e.seq for e in events] == list(range(1, 202))
            assert isinstance(events[-1], ev.DispatchPaused) and events[0].run_id == "r1"
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_follower_that_stops_reading_is_dropped_not_waited_for(
    server: ControlServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control, "MAX_BACKLOG", 64 * 1024)
    reader, writer = await asyncio.open_unix_connection(str(server.path))
    writer.write(b'{"id": 1, "cmd": "follow"}\n')
    await writer.drain()
    await reader.readline()  # followed; from now on it reads nothing
    bus = EventBus("r1")
    bus.subscribe(server.publish)
    for _ in range(4000):
        bus.emit(ev.AgentOutput, task="a", attempt=1, text="x" * 200)
        await asyncio.sleep(0)
    assert not server._followers  # dropped; the engine never blocked on it
    writer.close()


async def test_a_client_learns_when_the_engine_is_gone(tmp_path: Path) -> None:
    with pytest.raises(EngineGone):
        await ControlClient.connect(control_path(tmp_path / "m.db", "nobody"))
    srv = ControlServer(control_path(tmp_path / "m.db", "r2"), table_sender(handlers()))
    await srv.start()
    client = await ControlClient.connect(srv.path)
    assert await client.call("answer", value=1) == 1
    await srv.aclose()
    await asyncio.wait_for(client.gone.wait(), 2)
    with pytest.raises(EngineGone):
        await client.call("answer", value=1)
    await client.aclose()
    assert not srv.path.exists()
