"""A demo run handed to a real background engine, as `maestro-tui demo` in a terminal does:
planned and recorded here, then driven by `maestro-tui engine` in a process of its own."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.session import background


@dataclass
class Engine:
    db: Path
    run_id: str
    repo: Path
    pid: int


async def record_demo(tmp_path: Path, db: Path, merge_policy: str = "review") -> tuple[str, Path]:
    """The demo planned and recorded (its plan not approved), as the TUI does before it hands
    the run to its engine."""
    from maestro_tui.llm.demo import DEMO_GOAL
    from maestro_tui.session import plans
    from maestro_tui.session.lifecycle import start_session
    from maestro_tui.session.preparing import Outlet, plan_run

    demo = plans.prepare_demo(
        dest=tmp_path / "shop", db_path=db, max_agents=4, merge_policy=merge_policy
    )
    prepared = await plan_run(demo.ws, demo.config, DEMO_GOAL, Outlet(lambda s: None), env=demo.env)
    session = await start_session(db_path=db, **prepared.session_inputs())
    run_id = session.state.run_id
    await session.aclose()
    return run_id, demo.ws.root


@asynccontextmanager
async def demo_engine(tmp_path: Path, merge_policy: str = "review") -> AsyncIterator[Engine]:
    """A recorded demo run and its engine, started in the background; killed afterwards if it
    is still going. Set MAESTRO_DEMO_PACE for its speed."""
    db = tmp_path / "runs.db"
    run_id, repo = await record_demo(tmp_path, db, merge_policy)
    pid = await background.spawn(db, run_id, repo, background.engine_options(new=True))
    try:
        yield Engine(db, run_id, repo, pid)
    finally:
        if background.alive(pid):
            os.kill(pid, signal.SIGKILL)
