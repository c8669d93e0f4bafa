"""The Replayer: positions, stepping, playing on a clock, seeking, log tails, fast decoding."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.history import Replayer, decode_rows, last_lines, read_rows
from maestro_tui.store import Store
from maestro_tui.store.codec import decode_event
from tests.store.store_events import emit_every_event

RUN = "20250301-120000-rp01"
TASKS = ("cli", "tests", "docs")


def emit_run(bus: EventBus, lines_per_task: int = 120) -> list[ev.Event]:
    """A small run: three tasks streaming output, with usage and merges along the way."""
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    bus.emit(
        ev.RunStarted,
        goal="g",
        repo="/r",
        base_branch="main",
        base_commit="abc",
        integration_branch="maestro/r",
        merge_policy="auto",
        max_agents=3,
    )
    plan = {"tasks": [{"id": t, "title": t, "prompt": "p"} for t in TASKS]}
    bus.emit(ev.PlanProposed, plan=plan)
    bus.emit(ev.PlanApproved)
    for task in TASKS:
        bus.emit(ev.TaskStarted, task=task, attempt=1, worker="llm")
    for n in range(lines_per_task):
        for task in TASKS:
            bus.emit(ev.AgentOutput, task=task, attempt=1, text=f"{task} line {n} «ü»")
        if n % 10 == 0:
            bus.emit(
                ev.LLMUsage,
                task=TASKS[n % 3],
                model="demo",
                tokens_in=10,
                tokens_out=n,
                cost_usd=0.001,
            )
    for task in TASKS:
        bus.emit(ev.TaskFinished, task=task, attempt=1, commit="c0ffee")
        bus.emit(ev.Merged, task=task, commit="beef")
    bus.emit(ev.RunFinished, status="succeeded", merged=3, failed=0, waiting=0)
    return seen


class Clock:
    """Each reading is 0.1 s after the last: event n happens at n / 10 seconds."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> float:
        return next(self.ticks) / 10


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[Store, list[ev.Event]]]:
    store = await Store.open(tmp_path / "maestro.db")
    bus = EventBus(RUN, clock=Clock())
    bus.subscribe(store.append)
    events = emit_run(bus)
    await store.flush()
    yield store, events
    await store.close()


def expected_tails(events: list[ev.Event], upto: int, lines: int) -> dict[str, list[str]]:
    tails: dict[str, list[str]] = {}
    for e in events[:upto]:
        if isinstance(e, ev.AgentOutput):
            tails.setdefault(e.task, []).append(e.text)
    return {task: got[-lines:] for task, got in tails.items()}


async def test_load_knows_count_duration_and_starts_at_zero(
    stored: tuple[Store, list[ev.Event]],
) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN, checkpoint_every=50)
    assert (r.count, r.index, r.position, r.elapsed_s) == (len(events), 0, 0, 0.0)
    assert r.duration_s == pytest.approx(events[-1].ts - events[0].ts)
    assert r.state == fold([]) and not r.at_end


async def test_step_returns_events_and_moves_position(stored: tuple[Store, list[ev.Event]]) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN, checkpoint_every=50)
    assert await r.step() == events[:1]
    got = await r.step(200)  # crosses reads and checkpoints
    assert got == events[1:201] and r.position == events[200].seq
    assert r.state == fold(events[:201])
    rest = await r.step(10**6)
    assert rest == events[201:] and r.at_end and await r.step() == []
    assert r.state.tasks["cli"].status is TaskStatus.MERGED


async def test_advance_to_plays_events_up_to_a_virtual_time(
    stored: tuple[Store, list[ev.Event]],
) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN, checkpoint_every=50)
    got = await r.advance_to(2.0)  # the first 21 events: 0.0, 0.1, … 2.0 s after the first
    assert got == [e for e in events if e.ts <= events[0].ts + 2.0] and len(got) == 21
    assert await r.advance_to(2.0) == []
    capped = await r.advance_to(r.duration_s, max_events=7)
    assert len(capped) == 7 and r.index == len(got) + 7


@pytest.mark.parametrize("every", [1, 7, 50, 5000])
async def test_seek_anywhere_equals_a_fresh_reduce(
    stored: tuple[Store, list[ev.Event]], every: int
) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN, checkpoint_every=every, tail_lines=5)
    for target in (300, 17, 0, len(events), 201, 200, 3):  # forward and backward
        state, tails = await r.seek_index(target)
        assert state == fold(events[:target]) and r.index == target
        assert tails == expected_tails(events, target, 5)


async def test_seek_by_seq_and_time_then_step_continues(
    stored: tuple[Store, list[ev.Event]],
) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN, checkpoint_every=50)
    state, _ = await r.seek(seq=events[99].seq)
    assert r.index == 100 and state == fold(events[:100])
    assert await r.step(3) == events[100:103]
    await r.seek(elapsed=5.0)
    assert r.elapsed_s == pytest.approx(5.0) and r.index == 51
    state, tails = await r.step_back(10)
    assert r.index == 41 and state == fold(events[:41])
    await r.seek(elapsed=-3)
    assert r.index == 0
    with pytest.raises(ValueError, match="exactly one"):
        await r.seek()


async def test_step_with_lines_skips_only_output_a_log_pane_would_lose(
    stored: tuple[Store, list[ev.Event]],
) -> None:
    store, events = stored
    r = await Replayer.load(store, RUN)
    got = await r.step(len(events), lines=4)
    assert r.at_end and r.state == fold(events)
    outputs = [e for e in got if isinstance(e, ev.AgentOutput)]
    assert len(outputs) == 12  # four per task: the last four
    assert all(e in got for e in events if not isinstance(e, ev.AgentOutput))


async def test_an_empty_or_unknown_run_replays_as_nothing(
    stored: tuple[Store, list[ev.Event]],
) -> None:
    store, _ = stored
    r = await Replayer.load(store, "no-such-run")
    assert (r.count, r.duration_s) == (0, 0.0)
    assert await r.step() == [] and await r.seek(elapsed=3) == (r.state, {})


async def test_decode_rows_equals_the_store_codec_for_every_event_type(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "all.db")
    try:
        bus = EventBus(RUN)
        bus.subscribe(store.append)
        events = emit_every_event(bus)
        await store.flush()
        rows = await read_rows(store, RUN, 0, 1000)
        slow = [decode_event(RUN, *row[:4]) for row in rows]
        fast = decode_rows(RUN, rows)
        assert fast == slow == events
        assert [type(e) for e in fast] == [type(e) for e in events]
        bad = [(*rows[0][:3], '{"goal": 1', None)]
        with pytest.raises(ValueError, match="cannot be read"):
            decode_rows(RUN, bad)
    finally:
        await store.close()


def test_last_lines_keeps_other_events_and_the_newest_output() -> None:
    rows = [(1, 0.0, "TaskStarted", "{}", "a"), (2, 0.0, "AgentOutput", "{}", "a"),
            (3, 0.0, "AgentOutput", "{}", "b"), (4, 0.0, "AgentOutput", "{}", "a"),
            (5, 0.0, "Merged", "{}", "a")]  # fmt: skip
    assert [r[0] for r in last_lines(rows, 1)] == [1, 3, 4, 5]
