"""Notifications: which events call for one, how they read, and channels that fail or hang."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.attention import Notice, NoticeKind, notice_for
from maestro_tui.engine.bus import EventBus
from maestro_tui.notify.channels import (
    HookChannel,
    TerminalChannel,
    osc_notification,
    tmux_passthrough,
)
from maestro_tui.notify.notifier import Notifier, coalesce

ALL = list(NoticeKind)


def test_events_that_need_a_human_and_those_that_do_not() -> None:
    bus = EventBus("r1")
    waiting = bus.emit(ev.MergeWaiting, task="t", reasons=("conflicts in a.py",))
    notice = notice_for(waiting)
    assert notice is not None and notice.kind is NoticeKind.MERGE_WAITING
    assert notice.title == "t: merge waits for you" and notice.body == "conflicts in a.py"
    retrying = bus.emit(ev.TaskFailed, task="t", attempt=1, reason="boom", retry_in_s=2.0)
    assert notice_for(retrying) is None  # it will try again: nobody needs to look yet
    failed = notice_for(bus.emit(ev.TaskFailed, task="t", attempt=2, reason="boom\nmore"))
    assert failed is not None and failed.body == "boom"
    spent = notice_for(bus.emit(ev.BudgetExceeded, kind="usd", used=2.5, limit=2.0))
    assert spent is not None and spent.body == "$2.50 of $2.00; raise it to go on"
    assert notice_for(bus.emit(ev.TaskQueued, task="t")) is None


def test_a_burst_of_one_kind_is_one_notification() -> None:
    blocked = [Notice(NoticeKind.TASK_FAILED, f"{t} is blocked", "x", "r", t) for t in "abc"]
    done = Notice(NoticeKind.RUN_FINISHED, "run failed", "…", "r")
    out = coalesce([*blocked, done])
    assert [(n.title, n.body) for n in out] == [
        ("3 tasks failed or are blocked", "a, b, c"),
        ("run failed", "…"),
    ]


def test_osc_sequences_are_clean_and_pass_through_tmux() -> None:
    notice = Notice(NoticeKind.MERGE_WAITING, "t: merge\x1b[31m waits", "a;b\x07", "r", "t")
    nine = osc_notification(notice, "9")
    assert nine == "\x1b]9;maestro-tui: t: merge [31m waits: a;b\x07"  # no stray ESC or BEL
    assert osc_notification(notice, "777").startswith("\x1b]777;notify;maestro-tui: t: merge")
    wrapped = tmux_passthrough(nine)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;maestro-tui: t: merge [31m waits: a;b\x07\x1b\\"
    foot = TerminalChannel(bell=True, osc=True, env={"TERM": "foot"})
    assert foot.flavour == "777" and foot.sequence(notice).startswith("\x07\x1b]777;")
    inside = TerminalChannel(bell=False, osc=True, env={"TERM": "screen", "TMUX": "/tmp/t,1,0"})
    assert inside.sequence(notice).startswith("\x1bPtmux;")


async def test_the_hook_receives_the_notification_as_json(tmp_path: Path) -> None:
    out = tmp_path / "got.jsonl"
    hook = [sys.executable, "-c", f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read())"]
    bus = EventBus("r1")
    notifier = Notifier([HookChannel(hook)], ALL, coalesce_s=0.01)
    bus.subscribe(notifier)
    bus.emit(ev.MergeWaiting, task="pricing", reasons=("conflicts in shop/pricing.py",))
    await notifier.aclose()
    (line,) = out.read_text().splitlines()
    assert json.loads(line) == {
        "kind": "merge_waiting",
        "title": "pricing: merge waits for you",
        "body": "conflicts in shop/pricing.py",
        "run_id": "r1",
        "task": "pricing",
    }


async def test_a_failing_hook_is_reported_once_and_never_stops_the_run(tmp_path: Path) -> None:
    reported: list[tuple[str, str]] = []
    bus = EventBus("r1")
    bus.subscribe(
        lambda e: reported.append((e.channel, e.error)) if type(e) is ev.NotifyFailed else None
    )
    failing = HookChannel(
        [sys.executable, "-c", "import sys; print('no webhook', file=sys.stderr); sys.exit(3)"]
    )
    missing = HookChannel(["maestro-no-such-program"])

    def failed(channel: str, error: str) -> None:
        bus.emit(ev.NotifyFailed, channel=channel, error=error)

    notifier = Notifier([failing, missing], ALL, failed, coalesce_s=0.01)
    bus.subscribe(notifier)
    for task in ("a", "b"):
        bus.emit(ev.MergeWaiting, task=task, reasons=("review",))
        await asyncio.sleep(0.1)  # two separate notifications, not one coalesced
    await notifier.aclose()
    assert len(notifier.sent) == 2
    assert [c for c, _ in reported] == ["hook"]  # two failures of one channel: one report
    assert "exited with code 3: no webhook" in reported[0][1]


async def test_a_hanging_hook_does_not_block_the_bus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import maestro_tui.notify.notifier as notifier_module

    monkeypatch.setattr(notifier_module, "CLOSE_TIMEOUT_S", 0.5)
    pid_file = tmp_path / "pid"
    script = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"
    )
    hang = HookChannel([sys.executable, "-c", script], timeout_s=60)
    bus = EventBus("r1")
    notifier = Notifier([hang], ALL, coalesce_s=0.01)
    bus.subscribe(notifier)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(100):
        bus.emit(ev.MergeWaiting, task=f"t{n}", reasons=("x",))
    assert loop.time() - started < 0.5  # emitting never waits for a channel
    await notifier.aclose()  # bounded: the hook is abandoned, not awaited for 30 s
    assert loop.time() - started < 3
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # and it is not left behind
        os.kill(pid, 0)


async def test_kinds_switched_off_are_not_sent() -> None:
    written: list[str] = []
    terminal = TerminalChannel(bell=True, osc=False, env={}, write=written.append)
    bus = EventBus("r1")
    notifier = Notifier([terminal], [NoticeKind.RUN_FINISHED], coalesce_s=0.01)
    bus.subscribe(notifier)
    bus.emit(ev.MergeWaiting, task="t", reasons=("x",))
    bus.emit(ev.RunFinished, status="succeeded", merged=1, failed=0, waiting=0)
    await notifier.aclose()
    assert written == ["\x07"] and [n.kind for n in notifier.sent] == [NoticeKind.RUN_FINISHED]
