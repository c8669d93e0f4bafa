"""Many demo agents at once: a plan of N independent tasks the demo coder knows how to work,
and the count of what a run published against what its store holds.

Shared by bench/bench_scale.py (200 agents in the dashboard) and tests/ui/test_scale.py
(a few dozen, so CI guards that no event is lost at concurrency).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from maestro_tui.config import with_overrides
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, parse_plan
from maestro_tui.domain.state import TaskStatus, fold
from maestro_tui.session.lifecycle import RunSession, start_session
from maestro_tui.session.plans import prepare_demo

TEST_COMMAND = 'python -c "import shop"'  # each result must import; cheap on 2 cores


def task_id(n: int) -> str:
    return f"note-{n:03d}"


def scale_plan(agents: int) -> Plan:
    """N independent tasks, each writing a file of its own: no conflicts, all at once."""
    tasks = [
        {
            "id": task_id(n),
            "title": f"Release note {n}",
            "prompt": f"Write notes/{task_id(n)}.md: one release note for the shop package.",
            "files": [f"notes/{task_id(n)}.md"],
        }
        for n in range(agents)
    ]
    return parse_plan({"goal": f"{agents} release notes", "tasks": tasks})


def register_scripts(agents: int) -> None:
    """Teach the demo coder these tasks: the tool calls a sample task makes (read, write,
    run a command, finish)."""
    from maestro_tui.llm.demo.edits import create
    from maestro_tui.llm.demo.script import TASK_SCRIPTS, Step

    for n in range(agents):
        path = f"notes/{task_id(n)}.md"
        note = (
            f"# Release note {n}\n\n"
            f"Note {n} of {agents}: the shop package's pricing, cart and inventory modules\n"
            "are unchanged; this note only records that an agent worked here, in a worktree\n"
            "of its own, while every other agent of the run worked in theirs at the same time.\n"
        )
        TASK_SCRIPTS[task_id(n)] = [
            Step("read_file", "Reading the README for the package's name.", path="README.md"),
            Step("write_file", f"Writing {path}.", path=path, edit=create(note)),
            Step("run_command", "Checking what changed.", text="git status --short"),
            Step("finish", "Done.", text=f"Add release note {n}"),
        ]


@dataclass
class Published:
    """A bus subscriber: counts every event published, by type; notes the end of the run."""

    counts: Counter[str] = field(default_factory=Counter)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: ev.Event) -> None:
        self.counts[type(event).__name__] += 1
        if isinstance(event, ev.RunFinished):
            self.finished.set()


async def scale_session(root: Path, agents: int, published: Published) -> RunSession:
    """A recorded (not started) demo run of `agents` release notes, all at once, in `root`."""
    register_scripts(agents)
    db = root / "runs.db"
    demo = prepare_demo(dest=root / "shop", db_path=db, max_agents=agents, merge_policy="auto")
    config = with_overrides(
        demo.config, test_command=TEST_COMMAND, worktree_root=str(root / "worktrees")
    )
    return await start_session(
        ws=demo.ws,
        config=config,
        plan=scale_plan(agents),
        db_path=db,
        subscribers=[published],
        env=demo.env,
        merge_policy="auto",
        max_agents=agents,
    )


@dataclass(frozen=True)
class Tally:
    """What a finished run published, what its store holds, and whether they agree."""

    published: int
    stored: int
    differ_by_type: dict[str, int]  # type -> published minus stored, where they differ
    statuses_equal: bool  # every task's status folded from the store = the live state's
    merged: int
    run_status: str

    @property
    def lost(self) -> int:
        return self.published - self.stored


async def tally(session: RunSession, published: Published) -> Tally:
    """Flush the store, then compare its rows for the run with what the bus published."""
    await session.store.flush()
    stored = await session.store.load_events(session.state.run_id)
    in_store = Counter(type(e).__name__ for e in stored)
    counts = published.counts
    live = session.state
    folded = fold(stored)
    return Tally(
        published=sum(counts.values()),
        stored=len(stored),
        differ_by_type={
            k: counts[k] - in_store[k] for k in counts | in_store if counts[k] != in_store[k]
        },
        statuses_equal={k: t.status for k, t in folded.tasks.items()}
        == {k: t.status for k, t in live.tasks.items()},
        merged=sum(t.status is TaskStatus.MERGED for t in live.tasks.values()),
        run_status=str(live.status.value),
    )


def running(session: RunSession) -> int:
    return sum(t.status is TaskStatus.RUNNING for t in session.state.tasks.values())
