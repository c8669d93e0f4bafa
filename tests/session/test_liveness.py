"""A run the store calls running reads `stopped — resumable` the moment no process drives it:
the lock table is asked at listing time, so a SIGKILLed driver shows at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.runlock import lock_path
from maestro_tui.headless.history import list_runs
from maestro_tui.session.liveness import STOPPED, driver_pid, truthful
from maestro_tui.store import Store
from tests.store.store_events import start_run

HOLD = """
import sys, time
from pathlib import Path
from maestro_tui.engine.runlock import run_lock
with run_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


async def _running_run(db: Path, run_id: str) -> None:
    store = await Store.open(db)
    bus = EventBus(run_id)
    bus.subscribe(store.append)
    start_run(bus)
    await store.flush()
    await store.close()


def _hold_lock(db: Path, run_id: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db), run_id], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


async def test_a_run_is_running_only_while_a_process_holds_its_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "m.db"
    await _running_run(db, "r-driven")
    await _running_run(db, "r-orphan")
    driver = _hold_lock(db, "r-driven")
    try:
        store = await Store.open_read_only(db)
        runs = {r.run_id: r for r in truthful(await store.list_runs(), db)}
        await store.close()
        assert runs["r-driven"].status == "running"
        assert runs["r-orphan"].status == STOPPED
        assert driver_pid(db, "r-driven") == driver.pid
        os.kill(driver.pid, signal.SIGKILL)  # killed without a word
        driver.wait()
        assert driver_pid(db, "r-driven") is None  # at once: the kernel dropped the lock
        assert lock_path(db, "r-driven").exists()  # the file stays; it is no sign of life
    finally:
        driver.kill()
        driver.wait()
    assert await list_runs(db, as_json=True) == 0
    out = capsys.readouterr().out
    statuses = {json.loads(line)["run_id"]: json.loads(line)["status"] for line in out.splitlines()}
    assert statuses == {"r-driven": STOPPED, "r-orphan": STOPPED}
