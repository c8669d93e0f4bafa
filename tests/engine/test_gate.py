"""The merge gate on a real repository with a real test command: speculation, landing the
longest green prefix, finding the culprit, batches and bisection, conflicts, flaky tests, a red
base, and stopping cleanly."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge import CommitTests, Gate, GateItem
from maestro_tui.workspace.merge import MergeSource, SourceConflicts
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult
from tests.support.green import first_parents, red_commits
from tests.workspace.conftest import commit_file, git, make_repo

E = TypeVar("E", bound=ev.Event)

# The project's "test suite": every file under items/ must not say "bad". An "a" without a "b"
# waits for $GATE_RELEASE (so a test decides when that tree's run ends); "flaky" fails the
# first time it is seen.
CHECK = """\
import os, sys, time
from pathlib import Path
items = {p.name: p.read_text().strip() for p in Path("items").glob("*")}
release = os.environ.get("GATE_RELEASE")
if release and "a" in items and "b" not in items:
    while not Path(release).exists():
        time.sleep(0.01)
state = os.environ.get("FLAKY_STATE")
if "flaky" in items and state and not Path(state).exists():
    Path(state).write_text("seen")
    print("FAILED tests/test_items.py::test_flaky - it flakes")
    sys.exit(1)
bad = sorted(name for name, text in items.items() if text == "bad")
for name in bad:
    print(f"FAILED tests/test_items.py::test_{name} - bad item")
print(f"{len(bad)} failed, " if bad else "", f"{len(items)} passed in 0.01s", sep="")
sys.exit(1 if bad else 0)
"""
COMMAND = f"{sys.executable} check.py"


class Owner:
    """Records what the gate decided, and wakes the test when every result is decided."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.heads: dict[str, str] = {}
        self.reds: dict[str, bool] = {}  # task -> whether the base was to blame
        self.conflicts: dict[str, SourceConflicts] = {}
        self.broke: dict[str, str] = {}
        self.all_decided = asyncio.Event()

    def _done(self) -> None:
        n = len(self.heads) + len(self.reds) + len(self.conflicts) + len(self.broke)
        if n >= self.expected:
            self.all_decided.set()

    def landed(self, item: GateItem, head: str) -> None:
        self.heads[item.task_id] = head
        self._done()

    def red(self, item: GateItem, result: TestResult, base_red: bool) -> None:
        self.reds[item.task_id] = base_red
        self._done()

    def conflicted(self, item: GateItem, error: SourceConflicts) -> None:
        self.conflicts[item.task_id] = error
        self._done()

    def broken(self, item: GateItem, reason: str) -> None:
        self.broke[item.task_id] = reason
        self._done()


class Setup:
    def __init__(self, tmp_path: Path, base_items: dict[str, str] | None = None) -> None:
        self.repo = make_repo(tmp_path / "repo")
        (self.repo / "check.py").write_text(CHECK)
        for name, text in (base_items or {}).items():
            (self.repo / "items").mkdir(exist_ok=True)
            (self.repo / "items" / name).write_text(text + "\n")
        git(self.repo, "add", "-A")
        git(
            self.repo, "-c", "user.name=T", "-c", "user.email=t@e.invalid", "commit", "-qm", "check"
        )
        self.ws = Workspace.open(self.repo)
        self.base = self.ws.head_commit()
        self.ws.create_integration_branch("r1", self.base)
        self.bus = EventBus("r1")
        self.log: list[ev.Event] = []
        self.bus.subscribe(self.log.append)
        self.release = tmp_path / "release"
        self.env = {"GATE_RELEASE": str(self.release), "FLAKY_STATE": str(tmp_path / "flaky")}

    def item(self, name: str, text: str = "ok", path: str | None = None) -> GateItem:
        branch = f"t-{name}"
        git(self.repo, "branch", "-f", branch, self.base)
        sha = commit_file(self.repo, branch, path or f"items/{name}", text + "\n", f"add {name}")
        return GateItem(name, f"add {name}", MergeSource(sha))

    def gate(self, owner: Owner, speculate: int, retest_red: bool = False) -> Gate:
        trials = CommitTests(self.bus, self.ws, COMMAND, 60, self.env)
        return Gate(
            self.bus,
            self.ws,
            "maestro/r1",
            trials,
            owner,
            speculate=speculate,
            retest_red=retest_red,
        )

    def of(self, cls: type[E]) -> list[E]:
        return [e for e in self.log if isinstance(e, cls)]

    def moves(self) -> list[str]:
        """The branch's reflog, oldest first: where it went, one line per move."""
        return git(self.repo, "reflog", "show", "--format=%H", "refs/heads/maestro/r1").split()[
            ::-1
        ]


def most_at_once(log: list[ev.Event]) -> int:
    """The most merged trees under test at the same time."""
    running = peak = 0
    for e in log:
        running += isinstance(e, ev.MergeTesting) - isinstance(e, ev.MergeTested)
        peak = max(peak, running)
    return peak


def on_event(bus: EventBus, when: Callable[[ev.Event], bool]) -> asyncio.Event:
    seen = asyncio.Event()
    bus.subscribe(lambda e: seen.set() if when(e) else None)
    return seen


async def test_speculation_lands_the_longest_green_prefix_in_one_move_past_a_culprit(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    items = [s.item("a"), s.item("b"), s.item("c", "bad"), s.item("d"), s.item("e")]
    # The run of "a" alone ends only once b, d and e were tested green (d and e without c).
    green: set[str] = set()

    def release_when_the_rest_is_green(e: ev.Event) -> None:
        if isinstance(e, ev.MergeTested) and e.passed and "c" not in e.prefix:
            green.update(e.tasks)
            if green >= set("bde"):
                s.release.write_text("go")

    s.bus.subscribe(release_when_the_rest_is_green)
    owner = Owner(expected=5)
    gate = s.gate(owner, speculate=5)
    for item in items:
        gate.enqueue(item)
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()

    gate_events = [e for e in s.log if isinstance(e, ev.MergeTesting | ev.MergeTested)]
    # Five merged trees were tested at once: a, a+b, a+b+c, a+b+c+d, a+b+c+d+e.
    assert [e.prefix for e in gate_events[:5]] == [
        ("a",),
        ("a", "b"),
        ("a", "b", "c"),
        ("a", "b", "c", "d"),
        ("a", "b", "c", "d", "e"),
    ]
    assert all(isinstance(e, ev.MergeTesting) for e in gate_events[:5])
    assert [e.speculative for e in gate_events[:5]] == [False, True, True, True, True]
    reds = [e for e in s.of(ev.MergeTested) if not e.passed and not e.cancelled]
    assert all("c" in e.prefix for e in reds)  # every red tree held c
    [c_tested] = [e for e in reds if e.tasks == ("c",)]
    assert c_tested.prefix == ("a", "b", "c") and "test_c" in c_tested.output_tail
    assert owner.reds == {"c": False}  # its base was green: the red is its own
    # a, b, d and e landed together, with one compare-and-swap of the branch.
    heads = set(owner.heads.values())
    assert set(owner.heads) == {"a", "b", "d", "e"} and len(heads) == 1
    assert s.moves() == [s.base, *heads]
    assert len(first_parents(s.repo, "maestro/r1", s.base)) == 4  # one tested tree per result
    assert red_commits(s.repo, "maestro/r1", COMMAND, since=f"{s.base}^") == []
    assert "items/c" not in git(s.repo, "ls-tree", "-r", "--name-only", "maestro/r1")


async def test_a_long_queue_is_tested_in_batches_and_a_red_batch_is_bisected(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    owner = Owner(expected=6)
    gate = s.gate(owner, speculate=2)
    for name in "abcdef":
        gate.enqueue(s.item(name, "bad" if name == "d" else "ok"))
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()

    testing = s.of(ev.MergeTesting)
    # Six results, two test slots: two batches of three, the second on top of the first.
    assert [e.tasks for e in testing[:2]] == [("a", "b", "c"), ("d", "e", "f")]
    # The red batch was split in halves, [d] and [e, f]; d is the culprit.
    assert [e.tasks for e in testing[2:4]] == [("d",), ("e", "f")]
    assert owner.reds == {"d": False}
    assert set(owner.heads) == set("abcef")
    # The first batch landed as one merge commit of three results (an octopus).
    first = first_parents(s.repo, "maestro/r1", s.base)[-1]
    assert git(s.repo, "log", "-1", "--format=%P", first).split()[0] == s.base
    assert len(git(s.repo, "log", "-1", "--format=%P", first).split()) == 4
    assert Workspace.open(s.repo).merged_task_ids("maestro/r1").keys() == set("abcef")
    assert red_commits(s.repo, "maestro/r1", COMMAND, since=f"{s.base}^") == []
    assert len(testing) <= 6  # fewer runs than one per result would need with a culprit


async def test_a_result_that_conflicts_only_with_one_ahead_waits_then_is_sent_back(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    x, y = s.item("x", "x", path="shared.txt"), s.item("y", "y", path="shared.txt")
    owner = Owner(expected=2)
    gate = s.gate(owner, speculate=2)
    gate.enqueue(x)
    gate.enqueue(y)
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()
    assert set(owner.heads) == {"x"}
    assert owner.conflicts["y"].paths == ("shared.txt",)  # against the head x landed on
    assert [e.tasks for e in s.of(ev.MergeTesting)] == [("x",)]


async def test_a_red_tree_is_run_again_and_a_pass_then_marks_the_test_flaky(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    owner = Owner(expected=1)
    gate = s.gate(owner, speculate=2, retest_red=True)
    gate.enqueue(s.item("flaky"))
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()
    tested = s.of(ev.MergeTested)
    assert [(e.passed, e.retest) for e in tested] == [(False, False), (True, True)]
    assert tested[1].flaky == ("tests/test_items.py::test_flaky",)
    assert set(owner.heads) == {"flaky"}


async def test_a_red_base_is_reported_and_the_result_is_not_blamed(tmp_path: Path) -> None:
    s = Setup(tmp_path, base_items={"old": "bad"})
    owner = Owner(expected=1)
    gate = s.gate(owner, speculate=2)
    gate.enqueue(s.item("z"))
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()
    assert owner.reds == {"z": True}
    [red] = s.of(ev.BaseRed)
    assert red.commit == s.base and red.found_by == "gate" and "test_old" in red.output_tail
    assert s.moves() == [s.base]  # nothing moved


async def test_removing_a_result_stops_its_test_and_closing_leaves_no_worktree(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    owner = Owner(expected=1)
    gate = s.gate(owner, speculate=2)
    started = on_event(s.bus, lambda e: isinstance(e, ev.MergeTesting) and e.tasks == ("b",))
    gate.enqueue(s.item("a"))  # its test waits for a release that never comes
    gate.enqueue(s.item("b"))
    await asyncio.wait_for(started.wait(), 30)
    gate.remove("a")
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    assert set(owner.heads) == {"b"}
    assert any(e.cancelled and e.tasks == ("a",) for e in s.of(ev.MergeTested))
    # Closing with a test still running stops it and removes its scratch worktree.
    blocked = on_event(s.bus, lambda e: isinstance(e, ev.MergeTesting) and e.tasks == ("a",))
    gate.enqueue(s.item("a"))
    await asyncio.wait_for(blocked.wait(), 30)
    await gate.aclose()
    assert s.ws.list_worktrees() == []


@pytest.mark.parametrize("speculate", [1])
async def test_a_serial_gate_tests_one_tree_at_a_time(tmp_path: Path, speculate: int) -> None:
    s = Setup(tmp_path)
    owner = Owner(expected=3)
    gate = s.gate(owner, speculate=speculate)
    gate.enqueue(s.item("p"))
    await asyncio.wait_for(on_event(s.bus, lambda e: isinstance(e, ev.MergeTesting)).wait(), 30)
    gate.enqueue(s.item("q"))
    gate.enqueue(s.item("r"))
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()
    assert most_at_once(s.log) == 1 and set(owner.heads) == {"p", "q", "r"}
    assert red_commits(s.repo, "maestro/r1", COMMAND, since=f"{s.base}^") == []


async def test_slow_tests_narrow_the_speculation_to_the_cores(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    assert s.gate(Owner(expected=0), speculate=4).fit_to(0.5, cores=1) == 4  # fast: as set
    owner = Owner(expected=3)
    gate = s.gate(owner, speculate=4)
    assert gate.fit_to(5.0, cores=1) == 1
    gate.enqueue(s.item("p"))
    gate.enqueue(s.item("q"))
    gate.enqueue(s.item("r"))
    await asyncio.wait_for(owner.all_decided.wait(), 60)
    await gate.aclose()
    assert most_at_once(s.log) == 1 and set(owner.heads) == {"p", "q", "r"}
