"""select_best on diff candidates: each applied to HEAD in a scratch worktree and tested for real;
the passing one wins, the breaking one loses, the one that does not apply is said to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.mcp_server.fleet import Fleet
from maestro_tui.mcp_server.selecting import as_patch
from maestro_tui.mcp_server.session import McpSession
from maestro_tui.mcp_server.tools import Tools
from tests.e2e.conftest import git

BREAKS = """\
diff --git a/calc/ops.py b/calc/ops.py
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a + b
+    return a - b
"""
PASSES = """\
```diff
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,6 @@
 def add(a, b):
     return a + b
+
+
+def sub(a, b):
+    return a - b
```"""
STALE = """\
--- a/calc/ops.py
+++ b/calc/ops.py
@@ -1,2 +1,2 @@
 def add(x, y):
-    return x + y
+    return y + x
"""


@pytest.fixture
async def tools(repo: Path, tmp_path: Path) -> AsyncIterator[Tools]:
    session = McpSession(repo, tmp_path / "m.db")
    fleet = Fleet(session)
    try:
        yield Tools(session, fleet)
    finally:
        await fleet.close()
        await session.close()


def test_a_diff_is_recognised_fenced_or_not() -> None:
    assert as_patch(BREAKS) == BREAKS
    assert (as_patch(PASSES) or "").startswith("--- a/calc/ops.py")
    assert as_patch("Use a - b instead.\n--- not a diff") is None


async def test_tests_first_runs_the_tests_on_each_patch(tools: Tools, repo: Path) -> None:
    candidates = [
        {"content": BREAKS, "label": "model-a"},
        {"content": PASSES, "label": "model-b"},
        {"content": STALE, "label": "model-c"},
    ]
    text, data, failed = await tools.call("maestro_select_best", {"candidates": candidates})
    assert not failed, text
    assert (data["best"], data["label"], data["method"]) == (2, "model-b", "tests_first")
    assert data["backed_by_tests"] is True
    assert data["reason"] == "1 of 3 candidates pass the tests; the smallest passing diff wins"
    rows = {row["candidate"]: row for row in data["candidates"]}
    assert (rows[1]["tests_passed"], rows[1]["n_failed"]) == (False, 1)
    assert (rows[2]["tests_passed"], rows[2]["n_passed"], rows[2]["lines_changed"]) == (True, 1, 4)
    assert rows[3]["applied"] is False and "does not apply to HEAD" in rows[3]["detail"]
    # The trials left nothing behind: no worktree, no branch, the user's tree as it was.
    assert git(repo, "worktree", "list").count("\n") == 0
    assert git(repo, "branch", "--list") == "* main"
    assert git(repo, "status", "--porcelain") == ""

    await tools.session.store.flush()
    events = await tools.session.store.load_events(tools.session.run_id)
    finished = [e for e in events if isinstance(e, ev.CandidateFinished)]
    assert [(e.candidate, e.tests_passed, e.model) for e in finished] == [
        (1, False, "model-a"),
        (2, True, "model-b"),
        (3, None, "model-c"),
    ]
    assert finished[0].commit and git(repo, "cat-file", "-t", finished[0].commit) == "commit"
    (selected,) = [e for e in events if isinstance(e, ev.CandidateSelected)]
    assert (selected.task, selected.candidate, selected.backed_by_tests) == ("analyze", 2, True)


async def test_a_vote_counts_equal_results_once_each(tools: Tools) -> None:
    candidates = [{"content": c} for c in (PASSES, BREAKS, PASSES.replace("```diff\n", "```\n"))]
    text, data, failed = await tools.call(
        "maestro_select_best", {"candidates": candidates, "mode": "vote"}
    )
    assert not failed, text
    assert data["best"] == 1 and data["method"] == "vote"
    assert data["reason"].startswith("2 of 3 candidates reached the same result")


async def test_bad_test_results_are_refused(tools: Tools) -> None:
    args = {"candidates": [{"content": "a"}], "test_results": [{"candidate": 3, "passed": True}]}
    text, _, failed = await tools.call("maestro_select_best", args)
    assert failed and text == "error: test_results names candidate 3, but there are 1"
