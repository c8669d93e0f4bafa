"""The planner reads before it plans, over HTTP: a scripted model lists, reads and searches
through the read-only tools, within its budget of turns and tokens, then submits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain.planning import PlanningLog
from maestro_tui.llm.client import LLMClient
from maestro_tui.llm.planner import FORCED, PlannerError, plan_goal
from maestro_tui.llm.roles import ROLE_PROMPTS
from tests.llm.conftest import API_KEY, git
from tests.llm.fakeserver import FakeChatServer, Reply
from tests.llm.test_planner import GOOD


def client(server: FakeChatServer) -> LLMClient:
    return LLMClient("openai/planner", api_base=server.api_base, api_key=API_KEY, backoff_s=0.01)


def tool_results(body: dict[str, Any]) -> list[str]:
    """The tool results the model was sent after its last answer."""
    results: list[str] = []
    for message in reversed(body["messages"]):
        if message["role"] != "tool":
            break
        results.insert(0, str(message["content"]))
    return results


async def test_it_reads_two_files_and_searches_then_submits(
    server: FakeChatServer, repo: Path
) -> None:
    server.script(
        Reply(text="Reading alpha first.", tool_calls=[("read_file", {"path": "pkg/a.py"})]),
        Reply(tool_calls=[("read_file", {"path": "pkg/b.py", "start_line": 4, "end_line": 5})]),
        Reply(tool_calls=[("search_code", {"pattern": "MARKER_[AB] =", "path": "pkg"})]),
        Reply(text="I know enough.", tool_calls=[("submit_plan", GOOD)]),
    )
    log = PlanningLog()
    plan = await plan_goal(client(server), "Add beta to alpha", repo, ROLE_PROMPTS, progress=log)

    assert [t.id for t in plan.tasks] == ["alpha", "beta", "docs"]
    assert len(server.requests) == 4
    (read_a,) = tool_results(server.requests[1])
    assert read_a.splitlines() == [
        "pkg/a.py, lines 1-5 of 5:",
        "1  MARKER_A = 1",
        "2  ",
        "3  ",
        "4  def alpha():",
        "5      return 1",
    ]
    (read_b,) = tool_results(server.requests[2])
    assert read_b.splitlines() == ["pkg/b.py, lines 4-5 of 5:", "4  class Beta:", "5      pass"]
    (search,) = tool_results(server.requests[3])
    assert "pkg/a.py:1:MARKER_A = 1" in search and "pkg/b.py:1:MARKER_B = 2" in search
    # What the plan review shows: every read, with its lines, and the search with its count.
    assert log.reads == [
        "pkg/a.py:1-5",
        "pkg/b.py:4-5",
        "grep -E 'MARKER_[AB] =' pkg (2 in 2 files)",
    ]
    assert "".join(log.text) == "Reading alpha first.\nI know enough.\n"
    assert (log.tokens_in, log.tokens_out) == (4 * 12, 4 * 7)
    # Exploring, the model chooses; the map came first, ranked by the goal's words.
    assert all(body["tool_choice"] == "auto" for body in server.requests)
    first = server.requests[0]["messages"][1]["content"]
    assert first.index("pkg/a.py") < first.index("README.md")


async def test_the_turn_budget_forces_submit_plan(server: FakeChatServer, repo: Path) -> None:
    server.script(
        Reply(tool_calls=[("list_files", {})]),
        Reply(tool_calls=[("read_file", {"path": "README.md"})]),
        Reply(tool_calls=[("submit_plan", GOOD)]),
    )
    plan = await plan_goal(client(server), "g", repo, ROLE_PROMPTS, max_turns=2)
    assert len(plan.tasks) == 3
    first, second, last = server.requests
    assert first["tool_choice"] == second["tool_choice"] == "auto"
    assert last["tool_choice"] == FORCED
    (result,) = tool_results(last)
    assert result.startswith("README.md, lines 1-1 of 1:")
    assert result.endswith(
        "Your reading budget is spent (2 turns of 2): call submit_plan now, with the whole plan."
    )


async def test_the_token_budget_forces_submit_plan(server: FakeChatServer, repo: Path) -> None:
    server.script(
        Reply(tool_calls=[("list_files", {"path": "pkg"})], usage=(900, 100)),
        Reply(tool_calls=[("submit_plan", GOOD)]),
    )
    await plan_goal(client(server), "g", repo, ROLE_PROMPTS, max_tokens=1_000)
    assert server.requests[1]["tool_choice"] == FORCED
    (result,) = tool_results(server.requests[1])
    assert "2 files in pkg:\npkg/a.py (41 B)\npkg/b.py (36 B)" in result
    assert "budget is spent (1,000 tokens of 1,000)" in result


async def test_reading_on_after_the_budget_ends_in_planner_error(
    server: FakeChatServer, repo: Path
) -> None:
    """A model that ignores the forced tool choice is not read for: each answer without a
    plan is a failed attempt."""
    server.responder = lambda body: Reply(tool_calls=[("read_file", {"path": "README.md"})])
    with pytest.raises(PlannerError, match="no valid plan after 2 attempts") as info:
        await plan_goal(client(server), "g", repo, ROLE_PROMPTS, max_attempts=2, max_turns=3)
    assert len(server.requests) == 3 + 2
    assert info.value.problems == ["no submit_plan call: answer by calling the tool submit_plan"]
    (refused,) = tool_results(server.requests[-1])
    assert refused.startswith("error: Your reading budget is spent")


async def test_a_path_outside_the_repository_is_refused(server: FakeChatServer, repo: Path) -> None:
    outside = repo.parent / "secret.txt"
    outside.write_text("the key\n")
    (repo / "pkg" / "link.txt").symlink_to(outside)
    (repo / ".env").write_text("API_KEY=1\n")
    (repo / ".gitignore").write_text(".env\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    server.script(
        Reply(
            tool_calls=[
                ("read_file", {"path": "../secret.txt"}),
                ("read_file", {"path": str(outside)}),
                ("read_file", {"path": "pkg/link.txt"}),
                ("read_file", {"path": ".env"}),
                ("search_code", {"pattern": "key", "path": "../"}),
                ("list_files", {"path": "../*"}),
            ]
        ),
        Reply(tool_calls=[("submit_plan", GOOD)]),
    )
    log = PlanningLog()
    await plan_goal(client(server), "g", repo, ROLE_PROMPTS, progress=log)
    results = tool_results(server.requests[1])
    assert results == [
        "error: '../secret.txt' leaves the repository ('..')",
        f"error: '{outside}' is absolute; use a path relative to the repository",
        "error: 'pkg/link.txt' resolves outside the repository (a symlink?)",
        "error: '.env' is not one of the repository's files (git ignores it)",
        "error: '../' leaves the repository ('..')",
        "error: '../*' leaves the repository; globs are relative to it",
    ]
    assert not any("the key" in r for r in results)
    assert log.reads == []  # nothing was read
