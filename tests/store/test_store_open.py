"""Opening a database: file mode, migrations, refusing files that are not ours, run lookup."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store, StoreError, default_db_path
from maestro_tui.store.schema import SCHEMA_VERSION
from tests.store.store_events import start_run


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_new_database_is_private(tmp_path: Path, bus_for: Callable[..., EventBus]) -> None:
    db = tmp_path / "deep" / "dir" / "maestro.db"
    store = await Store.open(db)
    start_run(bus_for(store))
    await store.flush()
    try:
        assert mode(db) == 0o600
        assert mode(db.with_name("maestro.db-wal")) == 0o600  # SQLite copies the db's mode
    finally:
        await store.close()


async def test_existing_wider_database_is_narrowed(tmp_path: Path) -> None:
    db = tmp_path / "maestro.db"
    await (await Store.open(db)).close()
    db.chmod(0o644)
    store = await Store.open(db)
    await store.close()
    assert mode(db) == 0o600


async def test_reopening_keeps_schema_and_data(
    tmp_path: Path, bus_for: Callable[..., EventBus]
) -> None:
    db = tmp_path / "maestro.db"
    store = await Store.open(db)
    start_run(bus_for(store))
    await store.close()

    store = await Store.open(db)
    try:
        assert len(await store.list_runs()) == 1
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="made by a newer maestro-tui"):
        await Store.open(db)


async def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match=r"notes\.txt is not a maestro-tui database.*--db"):
        await Store.open(db)
    assert db.read_text().startswith("these are my notes")


async def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="not a maestro-tui database.*invoices"):
        await Store.open(db)


async def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open database.*--db"):
        await Store.open(tmp_path)


def test_default_path_honours_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAESTRO_TUI_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"
    monkeypatch.delenv("MAESTRO_TUI_DB")
    assert default_db_path().parts[-2:] == ("maestro-tui", "maestro.db")


async def test_get_run_by_id_or_unique_prefix(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    for run_id in ("20250301-1200-aa11", "20250301-1200-ab22", "20250302-0900-cc33"):
        start_run(bus_for(store, run_id))
    await store.flush()

    by_id, by_prefix = await store.get_run("20250301-1200-aa11"), await store.get_run("20250302")
    assert by_id is not None and by_id.run_id == "20250301-1200-aa11"
    assert by_prefix is not None and by_prefix.run_id == "20250302-0900-cc33"
    assert await store.get_run("2026") is None
    assert await store.get_run("") is None
    with pytest.raises(StoreError, match="ambiguous.*aa11.*ab22.*more characters"):
        await store.get_run("20250301-1200-a")


async def test_append_after_close_is_an_error(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "maestro.db")
    await store.close()
    await store.close()  # twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.append(ev.PlanApproved(run_id="r", seq=1, ts=0.0))


async def test_a_run_has_a_kind_and_version_1_databases_gain_it(
    tmp_path: Path, bus_for: Callable[..., EventBus]
) -> None:
    from maestro_tui.store.schema import MIGRATIONS

    db = tmp_path / "v1.db"
    with sqlite3.connect(db) as conn:  # a database as the first release left it
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO runs (run_id, goal, status, created_at) VALUES ('old', 'g', 'failed', 1)"
        )
        conn.execute("PRAGMA user_version = 1")
    store = await Store.open(db)
    try:
        start_run(bus_for(store, "20250301-120000-mc01"), kind="mcp")
        await store.flush()
        kinds = {r.run_id: r.kind for r in await store.list_runs()}
        assert kinds == {"old": "run", "20250301-120000-mc01": "mcp"}
        mcp = await store.get_run("20250301-120000-mc01")
        assert mcp is not None and mcp.kind == "mcp"
    finally:
        await store.close()
