"""Start a plan in the TUI, as `maestro-tui run --plan PLAN --repo REPO --db DB --yes` will.

    python -m tests.ui.tui_driver PLAN REPO DB AGENTS EXIT_FILE

Writes the exit code to EXIT_FILE when the app has closed (tmux shows no exit status).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from maestro_tui.commands import start_session
from maestro_tui.config import load_config
from maestro_tui.domain.plan import load_plan
from maestro_tui.ui.entry import run_live
from maestro_tui.workspace.repo import Workspace


async def main(plan: Path, repo: Path, db: Path, agents: int) -> int:
    ws = Workspace.open(repo)
    session = await start_session(
        ws=ws,
        config=load_config(ws.root),
        plan=load_plan(plan),
        db_path=db,
        merge_policy="auto",
        max_agents=agents,
    )
    return await run_live(session, review_plan=False, watch_themes=False)


if __name__ == "__main__":
    plan, repo, db, agents, exit_file = sys.argv[1:6]
    code = asyncio.run(main(Path(plan), Path(repo), Path(db), int(agents)))
    Path(exit_file).write_text(str(code))
    sys.exit(code)
