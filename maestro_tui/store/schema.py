"""Creating, checking and migrating the database file; migrations numbered by user_version.

MIGRATIONS[n] takes a database from version n to n + 1. Never edit a released migration:
append a new one, so every database in the wild walks the same path.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import aiosqlite

from maestro_tui.store.records import StoreError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first schema.
    (
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            goal TEXT NOT NULL DEFAULT '',
            repo TEXT NOT NULL DEFAULT '',
            base_branch TEXT NOT NULL DEFAULT '',
            base_commit TEXT NOT NULL DEFAULT '',
            integration_branch TEXT NOT NULL DEFAULT '',
            merge_policy TEXT NOT NULL DEFAULT '',
            max_agents INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,
            finished_at REAL,
            budget_usd REAL,
            budget_tokens INTEGER
        )""",
        "CREATE INDEX runs_by_created ON runs (created_at)",
        """CREATE TABLE tasks (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT NOT NULL DEFAULT '',
            "commit" TEXT,
            PRIMARY KEY (run_id, task_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE attempts (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            worker TEXT NOT NULL DEFAULT '',
            branch TEXT NOT NULL DEFAULT '',
            worktree TEXT NOT NULL DEFAULT '',
            started_ts REAL,
            finished_ts REAL,
            status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, task_id, attempt)
        ) WITHOUT ROWID""",
        # The log of record. `data` holds the event's own fields; the envelope is in columns.
        """CREATE TABLE events (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            ts REAL NOT NULL,
            wall REAL NOT NULL,
            type TEXT NOT NULL,
            task_id TEXT,
            data TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE merges (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            status TEXT NOT NULL,
            "commit" TEXT,
            reasons TEXT NOT NULL DEFAULT '[]',
            conflict_files TEXT NOT NULL DEFAULT '[]',
            merged_commit TEXT,
            queued_seq INTEGER NOT NULL DEFAULT 0,
            updated_at REAL NOT NULL,
            PRIMARY KEY (run_id, task_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE llm_calls (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            task_id TEXT,
            model TEXT NOT NULL,
            tokens_in INTEGER NOT NULL,
            tokens_out INTEGER NOT NULL,
            cost_usd REAL,
            latency_s REAL NOT NULL DEFAULT 0,
            simulated INTEGER NOT NULL DEFAULT 0,
            ts REAL NOT NULL
        )""",
        "CREATE INDEX llm_calls_by_run ON llm_calls (run_id, seq)",
        """CREATE TABLE findings (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            task_id TEXT NOT NULL,
            text TEXT NOT NULL,
            ts REAL NOT NULL
        )""",
        "CREATE INDEX findings_by_run ON findings (run_id, seq)",
    ),
    # 2: messages for running agents, from another process (`maestro-tui say`): the process
    # driving the run takes them and writes back what became of each.
    (
        """CREATE TABLE steer_requests (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at REAL NOT NULL,
            answered_at REAL,
            answer TEXT
        )""",
        "CREATE INDEX steer_requests_open ON steer_requests (run_id, answered_at)",
    ),
    # 3: what drives a run: "run" (the orchestrator) or "mcp" (an agent calling maestro's tools).
    ("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run'",),
    # 4: each run's coordination metrics, computed from its events up to `upto_seq` by
    # version `version` of domain.metrics, so listing runs does not replay them.
    (
        """CREATE TABLE run_metrics (
            run_id TEXT PRIMARY KEY,
            upto_seq INTEGER NOT NULL,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            computed_at REAL NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 5: which run a re-run re-runs; each run's task outcomes (domain/outcomes.py), computed
    # once from its events up to `upto_seq` by version `version`, for `compare` and `stats`.
    (
        "ALTER TABLE runs ADD COLUMN rerun_of TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE task_outcomes (
            run_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            candidate INTEGER NOT NULL,
            ordinal INTEGER NOT NULL,
            role TEXT NOT NULL,
            worker TEXT NOT NULL,
            model TEXT NOT NULL,
            status TEXT NOT NULL,
            started INTEGER NOT NULL,
            merged INTEGER NOT NULL,
            taken_over TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            first_try_green INTEGER,
            fix_rounds INTEGER,
            conflicts INTEGER NOT NULL,
            interventions INTEGER NOT NULL,
            files INTEGER NOT NULL,
            lines INTEGER NOT NULL,
            tokens_in INTEGER NOT NULL,
            tokens_out INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            simulated INTEGER NOT NULL,
            wall_s REAL,
            "commit" TEXT,
            gate TEXT NOT NULL,
            gate_n_passed INTEGER,
            gate_n_failed INTEGER,
            PRIMARY KEY (run_id, task_id, candidate)
        ) WITHOUT ROWID""",
        """CREATE TABLE outcome_runs (
            run_id TEXT PRIMARY KEY,
            upto_seq INTEGER NOT NULL,
            version INTEGER NOT NULL,
            computed_at REAL NOT NULL
        ) WITHOUT ROWID""",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def create_private(path: Path) -> Path:
    """Create the file 0600 before SQLite touches it; narrow an existing, wider one."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                if stat.S_IMODE(file.stat().st_mode) & 0o077:
                    file.chmod(0o600)
    except OSError as exc:
        raise StoreError(
            f"cannot open database {path}: {exc.strerror or exc}: pass another --db"
        ) from exc
    return path


def existing_file(path: Path) -> Path:
    """The absolute path of a database that must already exist (readers never create one)."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise StoreError(f"no database at {path}: pass the --db the run was started with")
    return path


async def configure(conn: aiosqlite.Connection, path: Path) -> None:
    """WAL, synchronous=NORMAL and a busy timeout; a file that is not SQLite fails here."""
    try:
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a maestro-tui database ({exc}): pass another --db"
        ) from exc


async def takes_variables(conn: aiosqlite.Connection, count: int) -> bool:
    """Whether this SQLite build accepts `count` parameters in one statement."""
    try:
        # One result column: a wide SELECT list would hit the column limit (2000) instead.
        await conn.execute(f"SELECT 1 WHERE ? IN ({','.join(['?'] * (count - 1))})", [0] * count)
    except sqlite3.OperationalError:  # "too many SQL variables"
        return False
    return True


async def check_readable(conn: aiosqlite.Connection, path: Path) -> None:
    """For a read-only reader: the schema must be this version's, since it cannot migrate."""
    try:
        version = (await (await conn.execute("PRAGMA user_version")).fetchone() or (0,))[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"{path} is not a maestro-tui database ({exc}): pass another --db"
        ) from exc
    if version != SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, this maestro-tui reads {SCHEMA_VERSION}:"
            " open it once with the maestro-tui that runs it (e.g. maestro-tui runs --db FILE)"
            if version
            else f"{path} is not a maestro-tui database (no schema): pass another --db"
        )


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Bring the schema to SCHEMA_VERSION, one numbered migration at a time, atomically."""
    try:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            version = (await (await conn.execute("PRAGMA user_version")).fetchone() or (0,))[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was made by a newer maestro-tui (schema version {version}; this"
                    f" one knows up to {SCHEMA_VERSION}): upgrade maestro-tui or pass another --db"
                )
            if version == 0:
                tables = await conn.execute_fetchall(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
                if tables:
                    names = ", ".join(sorted(t[0] for t in tables))
                    raise StoreError(
                        f"{path} is not a maestro-tui database (it has tables {names}):"
                        " pass another --db"
                    )
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: migrating the schema failed ({exc}): pass another --db") from exc
