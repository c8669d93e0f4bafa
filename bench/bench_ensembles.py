"""Verification pays: tests_first ensembles of 3 against single attempts, on the demo model.

The demo plan, without its deliberate conflict (11 tasks), runs twice per seed on fresh
copies of the sample repository, with the demo coder breaking a seeded share of its edits.
Single attempts merge only what happened to be right; an ensemble lets the tests pick a
working candidate. Both report merged-task success, model calls (overhead) and simulated
cost, totalled over the seeds. No fix loop and no retries: the ensemble alone is compared.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

FAULT_RATE = "0.25"
SEEDS = ("1", "2", "3", "4")


async def run_variant(candidates: int, workdir: Path) -> dict[str, float]:
    from maestro_tui.config import load_config
    from maestro_tui.domain import events as ev
    from maestro_tui.domain.plan import parse_plan
    from maestro_tui.domain.state import TaskStatus
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
    from maestro_tui.llm.demo import copy_sample_repo
    from maestro_tui.llm.demo import model as demo_model
    from maestro_tui.llm.demo.script import CONFLICTING_TASKS, TEST_COMMAND, demo_plan
    from maestro_tui.session.plans import demo_env
    from maestro_tui.session.workers import WorkerPool
    from maestro_tui.workspace.repo import Workspace

    demo_model._edits_seen.clear()  # both variants draw the same faults for the same edits
    repo = copy_sample_repo(workdir / f"repo-{candidates}")
    config = replace(
        load_config(repo), test_command=TEST_COMMAND, default_worker="demo", model="demo",
        fix_attempts=0, retries=0, max_agents=4,
    )  # fmt: skip
    data = demo_plan()
    # The demo's deliberate conflict would hold a subtree for review in both variants.
    dropped = {CONFLICTING_TASKS[1], "test-" + CONFLICTING_TASKS[1]}
    data["tasks"] = [t for t in data["tasks"] if t["id"] not in dropped]
    for task in data["tasks"]:
        task["depends_on"] = [d for d in task["depends_on"] if d not in dropped]
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


def _total(results: list[dict[str, float]]) -> dict[str, float]:
    out = {k: sum(r[k] for r in results) for k in results[0]}
    out["success"] = out["merged"] / out["tasks"]
    return out


def main() -> dict[str, dict[str, float]]:
    os.environ.update({"MAESTRO_DEMO_PACE": "0", "MAESTRO_DEMO_FAULTS": FAULT_RATE})
    singles, ensembles = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            os.environ["MAESTRO_DEMO_SEED"] = seed
            singles.append(asyncio.run(run_variant(1, Path(tmp) / f"s{seed}")))
            ensembles.append(asyncio.run(run_variant(3, Path(tmp) / f"s{seed}")))
    single, ensemble = _total(singles), _total(ensembles)
    print(
        f"ensembles: demo plan, {FAULT_RATE} of edits broken on purpose, seeds {', '.join(SEEDS)}"
        " (totals over the seeds)"
    )
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
