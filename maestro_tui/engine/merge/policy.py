"""What the merge queue decides with: results, settings, decisions, and the rules for holding."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from maestro_tui.config import Config
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.process import Sandbox
from maestro_tui.workspace.merge import ConflictFile, MergeCheck, MergeSource, resolve_text
from maestro_tui.workspace.prepare import Preparer
from maestro_tui.workspace.validate import TestResult

FEEDBACK_LIMIT = 4000
WITHDRAWN = "withdrawn"  # a dropped result's reason starts so: not a decision on its work
RESOLUTIONS = ("ours", "theirs")
Resolution = (
    str | Mapping[str, str | None] | None
)  # a side, or path -> resolved text (None: delete)


class MergeNeedsResolution(Exception):
    """Approving a conflicting merge needs a resolution (ours/theirs or resolved files)."""

    def __init__(self, task_id: str, files: tuple[str, ...], stale: bool = False) -> None:
        self.files = files
        self.stale = stale
        if stale:
            message = (
                f"task '{task_id}': the integration branch changed {', '.join(files)} since"
                " the resolution was made: nothing was merged; resolve it again"
            )
        else:
            message = (
                f"task '{task_id}' conflicts with the integration branch in {', '.join(files)}:"
                " approve with --take ours|theirs, resolve it in the TUI's merge review,"
                " or reject it"
            )
        super().__init__(message)


class MergeRefused(Exception):
    """An approved merge did not land (its merged tree fails the tests); nothing moved.

    `output` is the tail of the gate's test output, for the review to show beside the diff.
    """

    def __init__(self, task_id: str, reason: str, output: str = "") -> None:
        self.task_id = task_id
        self.output = output
        tail = f"\n{output[-1500:]}" if output else ""
        super().__init__(f"task '{task_id}' was not merged: {reason}{tail}")


@dataclass(frozen=True)
class MergeLimits:
    max_lines: int = 500
    max_files: int = 25


@dataclass(frozen=True)
class PendingMerge:
    task_id: str
    title: str
    commit: str
    summary: str = ""


@dataclass(frozen=True)
class Candidate:
    """A finished task's result as the queue judges it."""

    task_id: str
    title: str
    commit: str
    summary: str
    files_changed: int
    lines_changed: int
    tests_passed: bool | None = None  # None: no test command configured
    tests_detail: str = ""
    attempt: int = 0
    base_red: bool = False  # its tests failed, and so do the integration branch's own


@dataclass(frozen=True)
class GateSettings:
    """How merged results are tested before they land (engine/gate.py)."""

    command: str = ""  # the test command; "" = nothing to test, no gate
    timeout_s: float | None = 600
    env: Mapping[str, str] = field(default_factory=dict)
    speculate: int = 4  # merged trees tested at once; 1 = a serial gate, 0 = no gate
    max_batch: int = 4  # results at most in one tested tree when more wait than slots are free
    retest_red: bool = False  # run a red tree once more, to tell flaky tests apart
    on_red: str = "fix"  # fix: back to the task's agent on the current branch; review: hold
    on_conflict: str = "review"  # review: hold; agent: back to its agent to resolve; retry
    fix_attempts: int = 1
    # Where the tests of merged trees run confined ([sandbox]): the agents' code runs there.
    sandbox: Sandbox | None = None
    # How each tested tree is made like the user's checkout ([worktree]); None: as checked out.
    preparer: Preparer | None = None

    @classmethod
    def from_config(
        cls,
        config: Config,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
        preparer: Preparer | None = None,
    ) -> GateSettings:
        return cls(
            sandbox=preparer.confine(sandbox) if preparer else sandbox,
            preparer=preparer,
            command=config.test_command,
            timeout_s=config.test_timeout_s,
            env=dict(env),
            speculate=config.speculate,
            max_batch=config.max_batch,
            retest_red=config.retest_red,
            on_red=config.on_red,
            on_conflict=config.on_conflict,
            fix_attempts=config.fix_attempts,
        )

    @property
    def off_reason(self) -> str:
        """Why there is no gate ("" when there is one)."""
        if not self.command.strip():
            return (
                "no test command is configured ([tests] command): merges are not tested as merged"
            )
        if self.speculate == 0:
            return "[merge] speculate = 0 turns the gate off: merges are not tested as merged"
        return ""


@dataclass(frozen=True)
class FixRequest:
    """Send a result back to its agent, on top of the current integration branch."""

    commit: str  # the result to merge into the new worktree
    feedback: str
    round: int  # the fix round this is, counted with the agent's own against fix_attempts

    def feedback_with(self, conflicted: tuple[str, ...]) -> str:
        """The feedback, told first where the merge left conflict markers."""
        if not conflicted:
            return self.feedback
        return (
            f"Conflict markers (<<<<<<< ||||||| ======= >>>>>>>) in {', '.join(conflicted)} show "
            "where both sides changed the same lines: resolve them.\n" + self.feedback
        )


@dataclass(frozen=True)
class Decision:
    """The merge queue decided a task: SATISFIED, HELD or DEAD, or (None) run it with `fix`."""

    task_id: str
    outcome: Outcome | None
    fix: FixRequest | None = None
    reason: str = ""


def test_detail(tests: TestResult | None) -> str:
    """'3 failed', 'timed out' or 'exit code 2'; '' for no result or a pass."""
    if tests is None or tests.passed:
        return ""
    if tests.timed_out:
        return "timed out"
    return f"{tests.n_failed} failed" if tests.n_failed else f"exit code {tests.exit_code}"


def hold_reasons(
    c: Candidate,
    limits: MergeLimits,
    policy: str,
    extra: Callable[[Candidate], list[str]] | None = None,
) -> list[str]:
    """Why a result must wait for the human rather than go into the gate (none: it may go)."""
    reasons = []
    if c.tests_passed is False:
        text = f"tests failed{f' ({c.tests_detail})' if c.tests_detail else ''}"
        if c.base_red:
            text += "; the integration branch fails its tests too: not charged to this task"
        reasons.append(text)
    if c.lines_changed > limits.max_lines:
        reasons.append(f"diff of {c.lines_changed} lines is over the limit of {limits.max_lines}")
    if c.files_changed > limits.max_files:
        reasons.append(f"{c.files_changed} files changed, over the limit of {limits.max_files}")
    if policy == "review":
        reasons.append("merge policy is review")
    if extra is not None:
        reasons += [r for r in extra(c) if r not in reasons]
    return reasons


def fix_feedback(result: TestResult) -> str:
    """What an agent is told when its result, merged onto the current branch, is red."""
    intro = (
        "The tests fail with your result merged onto the current integration branch.\n"
        "Other results landed since you started. This worktree holds the integration branch "
        "with your change merged in: make the tests pass there.\n"
    )
    return intro + result.output_tail[-(FEEDBACK_LIMIT - 1000) :]


def conflict_feedback(conflicts: Sequence[ConflictFile], others: Sequence[tuple[str, str]]) -> str:
    """What an agent is told when its result conflicts with what landed since it started:
    each hunk's base, ours (the integration branch) and theirs (its own), and what the tasks
    that changed those lines said they did."""
    parts = [
        "Your result conflicts with work that landed on the integration branch since you"
        " started. This worktree holds the branch with your change merged in, and conflict"
        " markers where both changed the same lines. Resolve each one so that both changes"
        " hold: keep what the other work did and what your task asks; then run the tests."
    ]
    if others:
        parts.append("What landed there meanwhile:")
        parts += [f"- {task}: {_first_line(summary)}" for task, summary in others]
    for conflict in conflicts:
        for n, hunk in enumerate(conflict.hunks, start=1):
            parts.append(
                f"### {conflict.path}, conflict {n} (line {hunk.start_line})\n"
                f"base (before either change):\n{_clip(hunk.base)}\n"
                f"ours (the integration branch):\n{_clip(hunk.ours)}\n"
                f"theirs (your change):\n{_clip(hunk.theirs)}"
            )
        if not conflict.hunks:
            parts.append(f"### {conflict.path}: {conflict.note or 'changed on both sides'}")
    return "\n\n".join(parts)[: FEEDBACK_LIMIT - 500]  # room for what the attempt adds


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no summary)"


def _clip(text: str, limit: int = 600) -> str:
    if not text:
        return "(nothing)"
    return text if len(text) <= limit else text[:limit] + "… (cut)"


def take_side(task_id: str, conflicts: tuple[ConflictFile, ...], side: str) -> dict[str, str]:
    """Every conflicting hunk resolved to one side; refuses a bad side or a hunkless conflict."""
    if side not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {side!r}")
    unresolvable = [f.path for f in conflicts if not f.hunks]
    if unresolvable:
        raise MergeNeedsResolution(task_id, tuple(unresolvable))
    return {f.path: resolve_text(f, [side] * len(f.hunks)) for f in conflicts}


def resolved_source(
    task_id: str, commit: str, check: MergeCheck, head: str, resolution: Resolution
) -> tuple[MergeSource, str]:
    """What the gate merges for an approval, and its label ("", ours, theirs or manual).

    A side is recomputed on whatever head the merge is built on; resolved files are kept as
    decided against `head`, and refused later if the branch changes them meanwhile."""
    if check.clean:
        return MergeSource(commit), ""
    if resolution is None:
        raise MergeNeedsResolution(task_id, check.conflicted_paths)
    if isinstance(resolution, str):
        take_side(task_id, check.conflicts, resolution)  # refuses what it cannot do
        return MergeSource(commit, side=resolution), resolution
    return MergeSource(commit, files=dict(resolution), resolved_on=head), "manual"
