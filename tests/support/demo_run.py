"""A demo run driven headless by a process of its own: a run for `watch` to watch.

The driver prints every event it emits as JSON (`--json`): what the events table must hold,
event for event, however many watchers read the database meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENVELOPE = ("run_id", "seq", "ts", "type")
WAIT_S = 90.0  # an upper bound for the driver to get somewhere, not a sleep


@dataclass
class DrivenDemo:
    """The driving process and where it writes."""

    proc: subprocess.Popen[bytes]
    db: Path
    printed: Path  # its stdout: one JSON event per line

    def driver_events(self) -> list[dict[str, Any]]:
        """Every event the driver emitted, as it printed them."""
        lines = self.printed.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def table_events(self) -> list[dict[str, Any]]:
        """The events table, rows as the driver's JSON lines look."""
        with contextlib.closing(sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True)) as c:
            rows = c.execute("SELECT run_id, seq, ts, type, data FROM events ORDER BY seq")
            return [
                {"run_id": r, "seq": s, "ts": ts, "type": t, **json.loads(d)}
                for r, s, ts, t, d in rows
            ]

    def task_statuses(self) -> dict[str, str]:
        """The tasks table the driver projected from its events: task id to status."""
        with contextlib.closing(sqlite3.connect(f"{self.db.as_uri()}?mode=ro", uri=True)) as c:
            return dict(c.execute("SELECT task_id, status FROM tasks"))

    def files(self) -> dict[str, str]:
        """A digest of the database and its WAL (a missing WAL reads as empty)."""
        out = {}
        for suffix in ("", "-wal"):
            path = self.db.with_name(self.db.name + suffix)
            data = path.read_bytes() if path.exists() else b""
            out[suffix or "db"] = hashlib.sha256(data).hexdigest()
        return out


@contextlib.contextmanager
def driven_demo(tmp_path: Path, pace: float) -> Iterator[DrivenDemo]:
    """`maestro-tui demo --headless --json` in the background; killed if still running after."""
    db = tmp_path / "runs.db"
    printed = tmp_path / "driver.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_TUI_DB"}
    with printed.open("wb") as out, (tmp_path / "driver.err").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "maestro_tui", "demo", "--headless", "--json",
             "--pace", str(pace), "--dir", str(tmp_path / "shop"), "--db", str(db)],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    try:
        yield DrivenDemo(proc, db, printed)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


async def recorded_run_id(demo: DrivenDemo) -> str:
    """The demo's run id, once the driver has recorded the run (after planning)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        exited = demo.proc.poll() is not None  # before reading: a run it recorded is there
        with contextlib.suppress(sqlite3.Error):
            uri = f"{demo.db.as_uri()}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True)) as c:
                row = c.execute("SELECT run_id FROM runs").fetchone()
            if row:
                return str(row[0])
        assert not exited, f"the demo driver exited with {demo.proc.returncode} and no run"
        assert time.monotonic() < deadline, "the demo recorded no run"
        await asyncio.sleep(0.05)  # another process: nothing to await but its file
