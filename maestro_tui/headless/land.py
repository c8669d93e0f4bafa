"""`land`: bring a run's integration branch into the user's branch, only when they ask."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.headless.printer import Output
from maestro_tui.session.lifecycle import UserError, open_session
from maestro_tui.session.outcome import EXIT_OK


async def land(db_path: Path, run_ref: str, into: str | None, out: Output) -> int:
    async with await open_session(db_path, run_ref) as session:
        s = session.state
        target = into or s.base_branch
        if target in ("", "HEAD"):
            raise UserError("the run started on a detached HEAD: pass --into BRANCH")
        ws = session.orch.ws
        head = ws.fast_forward_or_merge(
            target, s.integration_branch, f"Land maestro run {s.run_id}: {s.goal}"
        )
        print(f"landed {s.integration_branch} into {target} → {head[:9]}", file=out.stream)
    return EXIT_OK
