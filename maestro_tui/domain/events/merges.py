"""Events of the merge queue and of the gate that tests merged trees before they land."""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


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
class BaseTested(Event):
    """The test command's run on the base before the run started (the preflight): whether it
    is green, and how long one run of the tests takes, for the ETA."""

    commit: str
    passed: bool
    n_passed: int | None = None
    n_failed: int | None = None
    duration_s: float = 0.0
    gate_width: int | None = None  # merged trees the gate tests at once, fitted to duration_s


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
