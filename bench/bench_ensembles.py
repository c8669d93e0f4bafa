"""Verification pays: tests_first ensembles of 3 against single attempts, on the demo model.

The demo plan (13 tasks) runs twice on fresh copies of the sample repository, with the demo
coder breaking a seeded share of its edits. Single attempts merge only what happened to be
right; an ensemble lets the tests pick a working candidate. Both runs report merged-task
success, model calls (overhead) and simulated cost. No fix loop and no retries, so the
comparison is the ensemble alone.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

FAULT_RATE = "0.3"
SEED = "7"


async def run_variant(candidates: int, workdir: Path) -> dict[str, float]:
    from maestro_tui.commands import WorkerPool, demo_env
    from maestro_tui.config import load_config
    from maestro_tui.demo import copy_sample_repo
    from maestro_tui.demo.script import TEST_COMMAND, demo_plan
    from maestro_tui.domain import events as ev
    from maestro_tui.domain.plan import parse_plan
    from maestro_tui.domain.state import TaskStatus
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
    from maestro_tui.llm import demo
    from maestro_tui.workspace.repo import Workspace

    demo._edits_seen.clear()  # both variants draw the same faults for the same edits
    repo = copy_sample_repo(workdir / f"repo-{candidates}")
    config = replace(
        load_config(repo), test_command=TEST_COMMAND, default_worker="demo", model="demo",
        fix_attempts=0, retries=0, max_agents=4,
    )  # fmt: skip
    data = demo_plan()
    for task in data["tasks"]:
        task["candidates"] = candidates
    plan = parse_plan(data)
    bus = EventBus(f"bench-{candidates}")
    events: list[ev.Event] = []
    bus.subscribe(events.append)
    setup = RunSetup(Workspace.open(repo), config, WorkerPool(config), bus, env=demo_env())
    started = time.perf_counter()
    orch = Orchestrator.start(setup, plan, merge_policy="auto", max_agents=4)
    state = await orch.run()
    wall = time.perf_counter() - started
    usage = [e for e in events if isinstance(e, ev.LLMUsage)]
    merged = state.count(TaskStatus.MERGED, TaskStatus.DONE)
    return {
        "tasks": len(state.tasks),
        "merged": merged,
        "success": merged / len(state.tasks),
        "calls": len(usage),
        "tokens": sum(u.tokens_in + u.tokens_out for u in usage),
        "cost": sum(u.cost_usd or 0.0 for u in usage),
        "wall_s": wall,
        "selections": sum(1 for e in events if isinstance(e, ev.CandidateSelected)),
        "backed": sum(
            1 for e in events if isinstance(e, ev.CandidateSelected) and e.backed_by_tests
        ),
    }


def main() -> dict[str, dict[str, float]]:
    os.environ.update(
        {"MAESTRO_DEMO_PACE": "0", "MAESTRO_DEMO_FAULTS": FAULT_RATE, "MAESTRO_DEMO_SEED": SEED}
    )
    with tempfile.TemporaryDirectory() as tmp:
        single = asyncio.run(run_variant(1, Path(tmp)))
        ensemble = asyncio.run(run_variant(3, Path(tmp)))
    print(f"ensembles: demo plan, {FAULT_RATE} of edits broken on purpose (seed {SEED})")
    for name, r in (("N = 1", single), ("tests_first × 3", ensemble)):
        print(
            f"  {name:<16} merged {r['merged']:.0f}/{r['tasks']:.0f} ({r['success']:.0%})  "
            f"{r['calls']:.0f} model calls  {r['tokens']:,.0f} tokens  ${r['cost']:.4f} (simulated)"
            f"  {r['wall_s']:.1f} s"
        )
    overhead = (ensemble["calls"] / single["calls"] - 1) * 100
    coverage = ensemble["backed"] / ensemble["selections"] if ensemble["selections"] else 0.0
    print(
        f"  success {single['success']:.0%} → {ensemble['success']:.0%}; "
        f"overhead of the ensemble +{overhead:.0f} % model calls (target < 300 %); "
        f"selections backed by tests {coverage:.0%} (target > 80 %)"
    )
    return {"single": single, "ensemble": ensemble}


if __name__ == "__main__":
    main()
