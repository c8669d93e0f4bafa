"""Each run's coordination metrics are stored when it finishes, and listing runs reads them:
runs recorded before the table (or resumed since) are computed once, then stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain import metrics as domain_metrics
from maestro_tui.domain.metrics import compute_metrics
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from maestro_tui.store import run_metrics as run_metrics_module
from maestro_tui.store.run_metrics import metrics_of
from maestro_tui.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.store.store_events import start_run, table
from tests.store.test_store_projection import busy_run


def finished_run(bus: EventBus) -> list[ev.Event]:
    """The busy run (a retry, merges held and rejected, model calls), to its RunFinished."""
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    busy_run(bus)
    return seen


def open_run(bus: EventBus) -> list[ev.Event]:
    """A run stopped mid-task, most of its events output the metrics do not read."""
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    start_run(bus)
    bus.emit(ev.TaskStarted, task="cli", attempt=1, worker="llm")
    for n in range(50):
        bus.emit(ev.AgentOutput, task="cli", attempt=1, text=f"line {n}")
        bus.emit(ev.LLMUsage, task="cli", model="m", tokens_in=1, tokens_out=1, cost_usd=0.01)
        bus.emit(ev.ToolCalled, task="cli", attempt=1, tool="read_file", args=f"f{n}.py")
        bus.emit(ev.FileChanged, task="cli", path=f"f{n}.py")
    return seen


def no_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the metrics were computed again instead of read")

    monkeypatch.setattr(run_metrics_module, "compute_metrics", refuse)


async def test_metrics_are_stored_when_a_run_finishes(
    store: Store, bus_for: Callable[..., EventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = finished_run(bus_for(store, "run-done"))
    await store.flush()

    (stored,) = table(store.path, "SELECT run_id, upto_seq, version FROM run_metrics")
    assert stored == ("run-done", events[-1].seq, domain_metrics.METRICS_VERSION)
    no_computing(monkeypatch)
    assert await metrics_of(store, ["run-done"]) == {"run-done": compute_metrics(events)}


async def test_runs_without_stored_metrics_are_computed_once(
    store: Store, bus_for: Callable[..., EventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    unfinished = open_run(bus_for(store, "run-open"))
    done = finished_run(bus_for(store, "run-done"))
    await store.flush()
    await store.commit([("DELETE FROM run_metrics", [()])])  # as before the table existed

    first = await metrics_of(store, ["run-open", "run-done", "no-such-run"])
    assert first["run-done"] == compute_metrics(done)
    assert first["run-open"] == compute_metrics(unfinished)
    assert first["run-open"].model_calls == 50 and "no-such-run" not in first
    assert len(table(store.path, "SELECT run_id FROM run_metrics")) == 2
    no_computing(monkeypatch)
    assert await metrics_of(store, ["run-open", "run-done"]) == first


async def test_a_run_resumed_since_or_older_definitions_are_computed_again(
    store: Store, bus_for: Callable[..., EventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = bus_for(store, "run-done")
    finished_run(bus)
    await store.flush()
    before = (await metrics_of(store, ["run-done"]))["run-done"]
    bus.emit(ev.RunResumed)  # a later session goes on with the run
    bus.emit(ev.TaskStarted, task="tests", attempt=2, worker="llm")
    bus.emit(ev.LLMUsage, task="tests", model="m", tokens_in=1, tokens_out=1, cost_usd=0.5)
    await store.flush()

    after = (await metrics_of(store, ["run-done"]))["run-done"]
    assert after.model_calls == before.model_calls + 1
    monkeypatch.setattr(run_metrics_module, "METRICS_VERSION", 10**6)
    calls: list[int] = []

    def counted(events: list[ev.Event]) -> domain_metrics.RunMetrics:
        calls.append(1)
        return compute_metrics(events)

    monkeypatch.setattr(run_metrics_module, "compute_metrics", counted)
    assert await metrics_of(store, ["run-done"]) == {"run-done": after} and calls == [1]


async def test_a_database_from_before_the_table_gains_it(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # the schema as the first release made it
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
    store = await Store.open(db)
    try:
        bus = EventBus("run-old")
        bus.subscribe(store.append)
        events = finished_run(bus)
        await store.flush()
        assert (await metrics_of(store, ["run-old"]))["run-old"] == compute_metrics(events)
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2
