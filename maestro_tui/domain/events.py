"""Events: everything that happens in a run, as frozen, JSON-serialisable records.

Each event carries the run id, a per-run sequence number and a monotonic timestamp (seconds
since the run's clock started). Only the EventBus stamps those three; code that reports
something calls `bus.emit(TaskStarted, task_id=..., ...)`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from typing import Any

from maestro_tui.domain.frozen import slot_init

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Base of all events."""

    run_id: str
    seq: int
    ts: float

    def __init_subclass__(cls) -> None:
        # No super() here: zero-argument super breaks in slotted dataclasses. With slots=True
        # the decorator makes a new class; registering the last one seen wins.
        EVENT_TYPES[cls.__name__] = cls
        # Events are built on the hot path of every run, one per line of agent output.
        if "__slots__" in cls.__dict__ and "__dataclass_fields__" in cls.__dict__:
            cls.__init__ = slot_init(cls)  # type: ignore[method-assign]

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def task_id(self) -> str | None:
        """The task this event is about, if any (every task event has a `task` field)."""
        return getattr(self, "task", None)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _names(type(self))}
        data["type"] = type(self).__name__
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _names(cls: type[Event]) -> tuple[str, ...]:
    names = cls.__dict__.get("_field_names_cache")
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        hints = typing.get_type_hints(cls)
        tuples = frozenset(n for n in names if typing.get_origin(hints.get(n)) is tuple)
        cls._field_names_cache = names  # type: ignore[attr-defined]
        cls._tuple_fields_cache = tuples  # type: ignore[attr-defined]
    return names


def event_from_dict(data: dict[str, Any]) -> Event:
    """Inverse of Event.to_dict; unknown types or fields are a ValueError naming them."""
    data = dict(data)
    name = data.pop("type", None)
    cls = EVENT_TYPES.get(name or "")
    if cls is None:
        raise ValueError(f"unknown event type {name!r}")
    names = _names(cls)
    tuples: frozenset[str] = cls._tuple_fields_cache  # type: ignore[attr-defined]
    for key in tuples:
        if isinstance(data.get(key), list):
            data[key] = _tuples(data[key])
    extra = set(data) - set(names)
    if extra:
        raise ValueError(f"{name}: unknown field(s) {sorted(extra)}")
    return cls(**data)


def _tuples(value: Any) -> Any:
    """JSON arrays back to (nested) tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def event_from_json(text: str) -> Event:
    return event_from_dict(json.loads(text))


# --- run lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class RunStarted(Event):
    goal: str
    repo: str
    base_branch: str
    base_commit: str
    integration_branch: str
    merge_policy: str
    max_agents: int
    budget_usd: float | None = None
    budget_tokens: int | None = None
    # What drives the run: "run" (the orchestrator works a plan) or "mcp" (a coding agent
    # calls maestro as MCP tools; its tasks are the workflow's stages).
    kind: str = "run"


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanProposed(Event):
    plan: dict[str, Any]
    layers: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanApproved(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResumed(Event):
    interrupted: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class RunPaused(Event):
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class DispatchPaused(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class DispatchResumed(Event):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class ConcurrencyChanged(Event):
    max_agents: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFinished(Event):
    status: str  # RunStatus value
    merged: int
    failed: int
    waiting: int


# --- tasks ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskQueued(Event):
    task: str
    priority: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStarted(Event):
    task: str
    attempt: int
    worker: str
    branch: str = ""
    worktree: str = ""
    base_commit: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentOutput(Event):
    task: str
    attempt: int
    text: str
    stream: str = "stdout"  # stdout | stderr | llm | tool


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCalled(Event):
    task: str
    attempt: int
    tool: str
    args: str = ""  # short, redacted summary
    ok: bool = True
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentSession(Event):
    """A coding CLI's session (thread) for this attempt: a fix round, a critic's send-back, a
    retry or a steering message resumes it, so the agent keeps its context."""

    task: str
    attempt: int
    session_id: str
    worker: str = ""
    resumed: bool = False  # this run of the CLI went on with an earlier session
    candidate: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskWaiting(Event):
    """The agent hit a rate or usage limit: it waits, then tries again by itself."""

    task: str
    attempt: int
    reason: str
    retry_in_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskStalled(Event):
    """The agent printed nothing for `silent_s` ([run] stall_s): it is stopped, and the
    attempt fails (to be retried per the retry policy)."""

    task: str
    attempt: int
    silent_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class FileChanged(Event):
    task: str
    path: str
    change: str = "modified"  # added | modified | deleted


@dataclass(frozen=True, kw_only=True, slots=True)
class FindingPublished(Event):
    task: str
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskCommitted(Event):
    task: str
    attempt: int
    commit: str
    files: tuple[str, ...] = ()
    insertions: int = 0
    deletions: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class TestsRan(Event):
    __test__ = False  # not a pytest test class

    task: str
    attempt: int
    command: str
    passed: bool
    exit_code: int | None
    n_passed: int | None = None
    n_failed: int | None = None
    duration_s: float = 0.0
    output_tail: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskFixing(Event):
    """Validation or the critic sent the work back to the same agent, with this feedback."""

    task: str
    attempt: int
    round: int  # 1 for the first fix
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CriticVerdict(Event):
    task: str
    attempt: int
    approved: bool
    comments: str = ""
    model: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CandidateFinished(Event):
    """One candidate of an ensemble task is done (commit None: it changed nothing or failed)."""

    task: str
    candidate: int
    commit: str | None
    tests_passed: bool | None = None
    n_passed: int | None = None
    n_failed: int | None = None
    lines_changed: int = 0
    model: str = ""
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CandidateSelected(Event):
    task: str
    candidate: int
    method: str  # tests_first | llm_judge | vote | human
    reason: str = ""
    backed_by_tests: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskFinished(Event):
    task: str
    attempt: int
    summary: str = ""
    commit: str | None = None  # None: the task changed nothing


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskFailed(Event):
    task: str
    attempt: int
    reason: str
    retry_in_s: float | None = None  # None: no retry left, the task has failed for good


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskBlocked(Event):
    task: str
    blocked_by: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskCancelled(Event):
    task: str
    reason: str = ""


# --- merge queue ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeQueued(Event):
    task: str
    commit: str
    files_changed: int = 0
    lines_changed: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeConflict(Event):
    task: str
    files: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeWaiting(Event):
    """A merge held for the human, with the reasons it was not merged automatically."""

    task: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeApproved(Event):
    task: str
    resolution: str = ""  # "", "ours", "theirs" or "manual"


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeRejected(Event):
    task: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Merged(Event):
    task: str
    commit: str  # the new head of the integration branch
    auto: bool = True


# --- the merge gate: merged trees tested before the branch moves to them ------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeTesting(Event):
    """The gate started testing a merged tree: `tasks` merged onto what is ahead of them."""

    tasks: tuple[str, ...]
    commit: str  # the merge commit under test, on no branch yet
    tree: str
    prefix: tuple[str, ...] = ()  # every task this tree adds to the branch head, in queue order
    speculative: bool = False  # built on results that have not landed yet
    retest: bool = False  # a second run of a red tree, to tell a flaky test from a real failure


@dataclass(frozen=True, kw_only=True, slots=True)
class MergeTested(Event):
    """The gate's verdict on a merged tree (`cancelled`: stopped first, no verdict)."""

    __test__ = False  # not a pytest test class

    tasks: tuple[str, ...]
    commit: str
    tree: str
    passed: bool
    n_passed: int | None = None
    n_failed: int | None = None
    duration_s: float = 0.0
    output_tail: str = ""
    prefix: tuple[str, ...] = ()
    speculative: bool = False
    retest: bool = False
    cancelled: bool = False
    flaky: tuple[str, ...] = ()  # tests that failed and then passed when run again


@dataclass(frozen=True, kw_only=True, slots=True)
class BaseRed(Event):
    """The integration branch itself fails its tests (a flaky suite, a change from outside):
    failures met on it are not charged to the tasks that meet them."""

    commit: str
    tree: str = ""
    found_by: str = ""  # the task whose red tests led to the check, or "gate"
    n_failed: int | None = None
    output_tail: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class GateSkipped(Event):
    """Merges of this run are not tested as merged, and why (said once)."""

    reason: str


# --- models, cost, budgets -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class LLMUsage(Event):
    task: str | None
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None: the model has no known price
    latency_s: float = 0.0
    simulated: bool = False
    # Which attempt (and ensemble candidate) of the task made the call, and why: "work" (the
    # agent), "critic", "judge"; calls of no task are the planner's.
    attempt: int | None = None
    candidate: int | None = None
    purpose: str = "work"


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetWarning(Event):
    kind: str  # usd | tokens
    used: float
    limit: float


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetExceeded(Event):
    kind: str
    used: float
    limit: float


@dataclass(frozen=True, kw_only=True, slots=True)
class BudgetRaised(Event):
    kind: str
    limit: float


# --- the human ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class NotifyFailed(Event):
    """A notification channel failed; it is reported once, and the run goes on without it."""

    channel: str
    error: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SteerSent(Event):
    """A person said something to a running agent; it waits for the agent to take it."""

    task: str
    text: str
    source: str = "tui"  # tui | cli (`maestro-tui say`, from another process) | mcp
    delivery: str = ""  # how it will reach the agent, e.g. "at its next turn"


@dataclass(frozen=True, kw_only=True, slots=True)
class SteerDelivered(Event):
    """The agent took the message (as a user message of its next turn, or a follow-up turn)."""

    task: str
    attempt: int
    text: str
