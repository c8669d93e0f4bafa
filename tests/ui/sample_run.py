"""A hand-made, deterministic run mid-flight: for snapshots, screenshots and the UI bench.

No clocks, no random ids: the bus runs on a counter clock, so every render is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.plan import Plan, parse_plan
from maestro_tui.domain.state import RunState, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.notify.notifier import Notifier

RUN_ID = "20250101-120000-abcd"

PLAN: dict[str, Any] = {
    "goal": "extend calc",
    "tasks": [
        {
            "id": "version-two",
            "title": "Bump the version to 2",
            "prompt": "p",
            "files": ["calc/settings.py"],
        },
        {
            "id": "version-three",
            "title": "Bump the version to 3",
            "prompt": "p",
            "files": ["calc/settings.py"],
        },
        {"id": "mul", "title": "Add mul", "prompt": "p", "files": ["calc/ops.py"]},
        {"id": "docs", "title": "Write usage docs", "role": "doc_writer", "prompt": "p"},
        {"id": "strings", "title": "Add a strings module", "prompt": "p", "depends_on": ["docs"]},
        {
            "id": "test-mul",
            "title": "Test mul",
            "role": "tester",
            "prompt": "p",
            "depends_on": ["mul"],
        },
        {
            "id": "docs-strings",
            "title": "Document strings",
            "role": "doc_writer",
            "prompt": "p",
            "depends_on": ["strings"],
        },
        {
            "id": "changelog",
            "title": "Changelog",
            "prompt": "p",
            "depends_on": ["test-mul", "docs-strings"],
        },
    ],
}


class CounterClock:
    """A clock that moves only when told: every event gets a predictable timestamp."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def new_bus() -> tuple[EventBus, CounterClock]:
    clock = CounterClock()
    return EventBus(RUN_ID, clock=clock), clock


def start_events(bus: EventBus) -> None:
    """RunStarted and the plan, as the orchestrator records them."""
    plan = parse_plan(PLAN)
    bus.emit(
        ev.RunStarted,
        goal="extend calc",
        repo="/work/calc",
        base_branch="main",
        base_commit="0" * 40,
        integration_branch=f"maestro/{RUN_ID}",
        merge_policy="auto",
        max_agents=4,
        budget_usd=0.5,
    )
    layers = tuple(tuple(layer) for layer in topological_layers(plan.graph()))
    bus.emit(ev.PlanProposed, plan=plan.to_dict(), layers=layers)


def _task_runs(bus: EventBus, clock: CounterClock, task: str, lines: int, tokens: int) -> None:
    bus.emit(
        ev.TaskStarted,
        task=task,
        attempt=1,
        worker="command:fake",
        branch=f"maestro-task/{RUN_ID}/{task}",
    )
    for n in range(lines):
        bus.emit(ev.AgentOutput, task=task, attempt=1, text=f"{task}: step {n + 1} of the work")
    bus.emit(
        ev.LLMUsage,
        task=task,
        model="demo/coder",
        tokens_in=tokens,
        tokens_out=tokens // 4,
        cost_usd=tokens * 0.00001,
        simulated=True,
    )
    clock.now += 3.0


FINDINGS = {
    "mul": "calc.ops.mul multiplies ints and floats alike; no rounding",
    "docs": "usage examples live in docs/usage.md and are run by the tests",
}
COMMITTED = {"mul": ("calc/ops.py",)}
CHANGES = {
    "strings": (("calc/strings.py", "added"), ("calc/__init__.py", "modified")),
    "test-mul": (("tests/test_mul.py", "added"),),
}


def _verified_ensemble(bus: EventBus, task: str) -> None:
    """Two candidates (tests pick the second), one fix round, then the critic approves."""
    bus.emit(ev.TaskFixing, task=task, attempt=1, round=1, reason="tests failed: test_version")
    for n, ok, lines in ((1, False, 6), (2, True, 4)):
        bus.emit(ev.CandidateFinished, task=task, candidate=n, commit=f"{n}" * 40,
                 tests_passed=ok, n_passed=4 if ok else 3, n_failed=0 if ok else 1,
                 lines_changed=lines, model="demo/coder")  # fmt: skip
    bus.emit(ev.CandidateSelected, task=task, candidate=2, method="tests_first",
             reason="the only one passing its tests", backed_by_tests=True)  # fmt: skip
    bus.emit(ev.CriticVerdict, task=task, attempt=1, approved=True,
             comments="small and tested", model="demo/critic")  # fmt: skip


def middle_events(bus: EventBus, clock: CounterClock) -> None:
    """Layer one done: three merged, one conflicting merge waiting, two agents running."""
    bus.emit(ev.PlanApproved)
    for task in ("version-two", "version-three", "mul", "docs"):
        bus.emit(ev.TaskQueued, task=task)
    for task, tokens in (
        ("version-two", 1200),
        ("version-three", 1100),
        ("mul", 2400),
        ("docs", 900),
    ):
        clock.now += 1.0
        _task_runs(bus, clock, task, 4, tokens)
        if task == "version-two":
            _verified_ensemble(bus, task)
        bus.emit(
            ev.TaskCommitted,
            task=task,
            attempt=1,
            commit=f"{task[:4]:0<8}" * 5,
            # What each task was to change (mul: calc/ops.py), so the metrics count it done.
            files=("calc/settings.py",)
            if "version" in task
            else COMMITTED.get(task, (f"{task}.py",)),
            insertions=3,
            deletions=1,
        )
        bus.emit(
            ev.TestsRan,
            task=task,
            attempt=1,
            command="pytest -q",
            passed=True,
            exit_code=0,
            n_passed=4,
            n_failed=0,
            duration_s=0.8,
        )
        bus.emit(
            ev.TaskFinished,
            task=task,
            attempt=1,
            summary=f"{task} done",
            commit=f"{task[:4]:0<8}" * 5,
        )
        bus.emit(
            ev.MergeQueued,
            task=task,
            commit=f"{task[:4]:0<8}" * 5,
            files_changed=1,
            lines_changed=4,
        )
        if task == "version-three":
            bus.emit(ev.MergeConflict, task=task, files=("calc/settings.py",))
            bus.emit(ev.MergeWaiting, task=task, reasons=("conflict in calc/settings.py",))
        else:
            bus.emit(ev.Merged, task=task, commit="f" * 40, auto=True)
        if task in FINDINGS:
            bus.emit(ev.FindingPublished, task=task, text=FINDINGS[task])
    bus.emit(
        ev.LLMUsage, task=None, model="other/unpriced", tokens_in=300, tokens_out=50, cost_usd=None
    )
    for task in ("strings", "test-mul"):
        bus.emit(ev.TaskQueued, task=task)
        clock.now += 1.0
        bus.emit(
            ev.TaskStarted,
            task=task,
            attempt=1,
            worker="command:fake",
            branch=f"maestro-task/{RUN_ID}/{task}",
        )
        for n in range(3):
            bus.emit(ev.AgentOutput, task=task, attempt=1, text=f"{task}: working, step {n + 1}")
        for path, change in CHANGES[task]:
            bus.emit(ev.FileChanged, task=task, path=path, change=change)


def sample_events() -> list[ev.Event]:
    """Every event of the sample run mid-flight, in order."""
    bus, clock = new_bus()
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    start_events(bus)
    middle_events(bus, clock)
    return seen


def sample_state() -> RunState:
    return fold(sample_events())


@dataclass
class FakeWorkspace:
    root: Path = Path("/work/calc")


@dataclass
class FakeOrchestrator:
    """Enough of an Orchestrator for a RunScreen that does not run anything."""

    bus: EventBus
    state: RunState
    plan: Plan = field(default_factory=lambda: parse_plan(PLAN))
    ws: FakeWorkspace = field(default_factory=FakeWorkspace)
    running: bool = False  # it never runs

    def __post_init__(self) -> None:
        self.bus.subscribe(self._follow)

    def _follow(self, event: ev.Event) -> None:
        self.state = fold([event], self.state)


class FakeSession:
    """A RunSession stand-in around a FakeOrchestrator; closing it does nothing."""

    def __init__(self, orch: FakeOrchestrator) -> None:
        self.orch = orch
        self.closed = False
        self.notifier = Notifier([], [])  # a real one, with no channel to reach

    async def aclose(self) -> None:
        self.closed = True


def sample_session(*, started: bool = True) -> tuple[FakeSession, EventBus, CounterClock]:
    """A session whose run has only been recorded; emit `middle_events` on the bus to go on."""
    bus, clock = new_bus()
    seen: list[ev.Event] = []
    unsubscribe = bus.subscribe(seen.append)
    start_events(bus)
    unsubscribe()
    orch = FakeOrchestrator(bus=bus, state=fold(seen))
    return FakeSession(orch), bus, clock
