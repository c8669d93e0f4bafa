"""The merge queue's approval API, as the review screen uses it: hand-resolved files are
tested as merged before they land, can be tried without landing, and go stale when the branch
changes them first."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge import (
    Candidate,
    Decision,
    GateSettings,
    MergeNeedsResolution,
    MergeQueue,
    MergeRefused,
)
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.workspace.repo import Workspace
from tests.workspace.conftest import commit_file, git, make_repo

# The suite fails when shared.txt says "bad".
CHECK = """\
import sys
from pathlib import Path
bad = "bad" in Path("shared.txt").read_text()
print("FAILED check.py::test_shared - it says bad" if bad else "1 passed in 0.01s")
sys.exit(1 if bad else 0)
"""


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        self.repo = make_repo(tmp_path / "repo")
        (self.repo / "check.py").write_text(CHECK)
        (self.repo / "shared.txt").write_text("base\n")
        git(self.repo, "add", "-A")
        git(self.repo, "-c", "user.name=T", "-c", "user.email=t@e.invalid", "commit", "-qm", "c")
        self.ws = Workspace.open(self.repo)
        self.base = self.ws.head_commit()
        self.ws.create_integration_branch("r1", self.base)
        self.bus = EventBus("r1")
        self.log: list[ev.Event] = []
        self.bus.subscribe(self.log.append)
        settings = GateSettings(command=f"{sys.executable} check.py", timeout_s=60, on_red="review")
        self.decided: dict[str, asyncio.Future[Decision]] = {}
        self.queue = MergeQueue(
            self.bus, self.ws, "maestro/r1", gate=settings, on_decided=self._decided
        )

    def _decided(self, decision: Decision) -> None:
        future = self.decided.setdefault(decision.task_id, asyncio.Future())
        if not future.done():
            future.set_result(decision)

    async def decision(self, task_id: str) -> Decision:
        future = self.decided.setdefault(task_id, asyncio.Future())
        return await asyncio.wait_for(future, 30)

    def result(self, name: str, text: str, base: str | None = None) -> Candidate:
        branch = f"t-{name}"
        git(self.repo, "branch", "-f", branch, base or self.base)
        sha = commit_file(self.repo, branch, "shared.txt", text, f"{name} edits shared.txt")
        return Candidate(name, f"task {name}", sha, "", 1, 2, tests_passed=True)

    def head(self) -> str:
        return git(self.repo, "rev-parse", "maestro/r1").strip()


async def test_a_hand_resolution_is_tried_refused_when_red_and_landed_when_green(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    assert await s.queue.submit(s.result("a", "from a\n")) is Outcome.GATED
    assert (await s.decision("a")).outcome is Outcome.SATISFIED
    assert await s.queue.submit(s.result("b", "from b\n")) is Outcome.HELD  # conflicts
    head = s.head()

    with pytest.raises(MergeNeedsResolution, match="conflicts with the integration branch"):
        await s.queue.approve("b")
    tried = await s.queue.trial("b", {"shared.txt": "from a and b\n"})
    assert tried.result.passed and s.head() == head  # tried, not landed
    assert git(s.repo, "show", f"{tried.commit}:shared.txt") == "from a and b\n"
    assert not (await s.queue.trial("b", {"shared.txt": "bad\n"})).result.passed

    with pytest.raises(MergeRefused) as refused:
        await s.queue.approve("b", {"shared.txt": "bad\n"})
    assert "test_shared" in refused.value.output and s.head() == head
    assert [w.task_id for w in s.queue.waiting] == ["b"]  # still waiting for a decision

    new_head = await s.queue.approve("b", {"shared.txt": "from a and b\n"})
    assert s.head() == new_head != head
    assert git(s.repo, "show", "maestro/r1:shared.txt") == "from a and b\n"
    approved = [e for e in s.log if isinstance(e, ev.MergeApproved)]
    assert [(e.task, e.resolution) for e in approved] == [("b", "manual")]
    assert s.queue.waiting == []
    await s.queue.aclose()


async def test_a_resolution_goes_stale_when_a_merge_ahead_changes_its_files(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    await s.queue.submit(s.result("a", "from a\n"))
    await s.decision("a")
    await s.queue.submit(s.result("b", "from b\n"))  # held: conflicts with a
    # d starts from the branch as it is now and rewrites shared.txt: it will land first.
    assert await s.queue.submit(s.result("d", "from d\n", base=s.head())) is Outcome.GATED
    with pytest.raises(MergeNeedsResolution) as stale:
        await s.queue.approve("b", {"shared.txt": "from a and b\n"})
    assert stale.value.stale and "changed shared.txt since the resolution" in str(stale.value)
    assert git(s.repo, "show", "maestro/r1:shared.txt") == "from d\n"  # d landed, b did not
    assert [w.task_id for w in s.queue.waiting] == ["b"]
    await s.queue.aclose()


async def test_two_approvals_at_once_land_one_merge(tmp_path: Path) -> None:
    """Two front ends (two attached TUIs, a TUI and `approve`) approve the same merge at the
    same moment: it is decided once, and the second is told why."""
    s = Setup(tmp_path)
    assert await s.queue.submit(s.result("a", "from a\n")) is Outcome.GATED
    assert (await s.decision("a")).outcome is Outcome.SATISFIED
    assert await s.queue.submit(s.result("b", "from b\n")) is Outcome.HELD
    first, second = await asyncio.gather(
        s.queue.approve("b", "theirs"), s.queue.approve("b", "theirs"), return_exceptions=True
    )
    assert isinstance(first, str) and first == s.head()
    assert isinstance(second, ValueError) and "already approved" in str(second)
    approved = [e for e in s.log if isinstance(e, ev.MergeApproved)]
    assert [e.task for e in approved] == ["b"]
    await s.queue.aclose()
