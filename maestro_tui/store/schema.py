"""Schema migrations, numbered by `PRAGMA user_version`.

MIGRATIONS[n] takes a database from version n to n + 1. Never edit a released migration:
append a new one, so every database in the wild walks the same path.
"""

from __future__ import annotations

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
)

SCHEMA_VERSION = len(MIGRATIONS)
