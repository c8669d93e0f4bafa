"""Events of one task: queued, started, its agent's output and tools, tests, the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


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
class FileChanged(Event):
    task: str
    path: str
    change: str = "modified"  # added | modified | deleted


@dataclass(frozen=True, kw_only=True, slots=True)
class AttemptPlaced(Event):
    """A step of an attempt started on a cluster node (the Ray executor): where it runs.

    A second one for the same step means Ray ran it again after losing the first (a worker
    or node died).
    """

    task: str
    attempt: int
    step: str  # "work" (the agent and its commit) | "tests"
    node: str  # the Ray node id
    pid: int  # the Ray worker process
    workdir: str  # the clone the step works in, on that node
    built: bool = False  # the clone was (re)built there from bundles for this step
    candidate: int | None = None


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
