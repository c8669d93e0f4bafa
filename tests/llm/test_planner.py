"""The planner: repo map, and submit_plan validated and re-asked with the problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain.plan import PlanError
from maestro_tui.llm.client import LLMClient
from maestro_tui.llm.planner import PlannerError, check_answer, plan_goal
from maestro_tui.llm.roles import ROLE_PROMPTS
from maestro_tui.workspace.files import repo_map
from tests.llm.conftest import API_KEY
from tests.llm.fakeserver import FakeChatServer, Reply


def task(tid: str, deps: list[str] | None = None, role: str = "coder") -> dict[str, Any]:
    return {
        "id": tid,
        "title": tid.title(),
        "role": role,
        "prompt": f"Do {tid}.",
        "files": [f"pkg/{tid}.py"],
        "depends_on": deps or [],
    }


GOOD = {"tasks": [task("alpha"), task("beta", ["alpha"]), task("docs", ["beta"], "doc_writer")]}
CYCLE = {"tasks": [task("alpha", ["beta"]), task("beta", ["alpha"])]}


def client(server: FakeChatServer) -> LLMClient:
    return LLMClient("openai/planner", api_base=server.api_base, api_key=API_KEY, backoff_s=0.01)


def feedback(body: dict[str, Any]) -> str:
    last = body["messages"][-1]
    assert last["role"] in ("tool", "user")
    return str(last["content"])


async def test_a_valid_plan_on_the_first_answer(server: FakeChatServer, repo: Path) -> None:
    server.script(Reply(text="Here it is.", tool_calls=[("submit_plan", GOOD)]))
    plan = await plan_goal(client(server), "Add beta", repo, ROLE_PROMPTS)
    assert [t.id for t in plan.tasks] == ["alpha", "beta", "docs"]
    assert plan.goal == "Add beta" and plan.by_id["beta"].depends_on == ("alpha",)
    body = server.requests[0]
    assert body["tool_choice"] == "auto"  # it may read first
    names = [t["function"]["name"] for t in body["tools"]]
    assert names == ["list_files", "read_file", "search_code", "submit_plan"]
    system, user = body["messages"]
    assert "- doc_writer:" in system["content"] and "- reviewer:" in system["content"]
    assert "Goal: Add beta" in user["content"] and "a.py" in user["content"]


async def test_not_json_then_valid(server: FakeChatServer, repo: Path) -> None:
    server.script(
        Reply(tool_calls=[("submit_plan", '{"tasks": [oops')]),
        Reply(tool_calls=[("submit_plan", GOOD)]),
    )
    plan = await plan_goal(client(server), "g", repo, ROLE_PROMPTS)
    assert len(plan.tasks) == 3 and len(server.requests) == 2
    assert "not valid JSON" in feedback(server.requests[1])


async def test_cycle_then_valid_and_the_cycle_reached_the_model(
    server: FakeChatServer, repo: Path
) -> None:
    server.script(
        Reply(tool_calls=[("submit_plan", CYCLE)]), Reply(tool_calls=[("submit_plan", GOOD)])
    )
    plan = await plan_goal(client(server), "g", repo, ROLE_PROMPTS)
    assert len(plan.tasks) == 3
    second = server.requests[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["tool_calls"][0]["function"]["name"] == "submit_plan"
    assert "dependency cycle: alpha -> beta -> alpha" in feedback(server.requests[1])


async def test_no_tool_call_then_valid(server: FakeChatServer, repo: Path) -> None:
    server.script(
        Reply(text="Sure, do alpha then beta."), Reply(tool_calls=[("submit_plan", GOOD)])
    )
    await plan_goal(client(server), "g", repo, ROLE_PROMPTS)
    assert "No tool call: read more with list_files" in feedback(server.requests[1])


async def test_unknown_dependency_role_and_outside_file_are_all_reported(
    server: FakeChatServer, repo: Path
) -> None:
    bad = {"tasks": [task("alpha", ["ghost"], "wizard") | {"files": ["../etc/x"]}]}
    server.script(
        Reply(tool_calls=[("submit_plan", bad)]), Reply(tool_calls=[("submit_plan", GOOD)])
    )
    await plan_goal(client(server), "g", repo, ROLE_PROMPTS)
    text = feedback(server.requests[1])
    assert "unknown dependency 'ghost'" in text
    assert "unknown role 'wizard'" in text
    assert "outside the repository" in text


async def test_gives_up_after_max_attempts(server: FakeChatServer, repo: Path) -> None:
    server.responder = lambda body: Reply(tool_calls=[("submit_plan", CYCLE)])
    with pytest.raises(PlannerError, match="no valid plan after 3 attempts") as info:
        await plan_goal(client(server), "g", repo, ROLE_PROMPTS, max_attempts=3)
    assert len(server.requests) == 3
    assert info.value.problems == ["dependency cycle: alpha -> beta -> alpha"]


async def test_model_failure_is_a_planner_error(server: FakeChatServer, repo: Path) -> None:
    server.script(Reply(status=400))
    with pytest.raises(PlannerError, match="the planner model failed"):
        await plan_goal(client(server), "g", repo, ROLE_PROMPTS)


def test_repo_map_lists_sizes_and_symbols_honouring_gitignore(repo: Path) -> None:
    (repo / "build").mkdir()
    (repo / "build" / "gen.py").write_text("def generated(): pass\n")
    (repo / "pkg" / "broken.py").write_text("def (:\n")
    text = repo_map(repo)
    lines = text.splitlines()
    assert "pkg/" in lines
    assert "  a.py (41 B): def alpha" in lines
    assert "  b.py (36 B): class Beta" in lines
    assert "  broken.py (7 B)" in lines
    assert "build" not in text and "gen.py" not in text


def test_repo_map_excludes_and_bounds(repo: Path) -> None:
    for n in range(5):
        (repo / f"f{n}.txt").write_text("x")
    assert "pkg/" not in repo_map(repo, exclude=["pkg"])
    assert repo_map(repo, max_files=2).splitlines()[-1].startswith("… and ")


def test_repo_map_of_a_plain_directory(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("class A:\n    pass\n\n\nasync def b():\n    pass\n")
    assert repo_map(tmp_path) == "m.py (44 B): class A, def b"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("doc writer", "doc_writer"),
        ("Doc-Writer", "doc_writer"),
        ("docs", "doc_writer"),
        ("  DOC_WRITER ", "doc_writer"),
        ("Testers", "tester"),
        ("testing", "tester"),
        ("Code Reviewer", "reviewer"),
        ("developer", "coder"),
    ],
)
def test_role_spellings_a_model_writes_are_the_roles_it_means(
    repo: Path, written: str, meant: str
) -> None:
    answer = {"tasks": [task("alpha", role=written)]}
    plan = check_answer(answer, "g", repo, ROLE_PROMPTS)
    assert plan.tasks[0].role == meant


def test_a_role_that_means_none_is_refused_with_the_known_roles(repo: Path) -> None:
    with pytest.raises(PlanError) as caught:
        check_answer({"tasks": [task("alpha", role="wizard")]}, "g", repo, ROLE_PROMPTS)
    (problem,) = caught.value.problems
    assert problem == (
        "task 'alpha': unknown role 'wizard' (roles: coder, tester, doc_writer, refactorer,"
        " reviewer, critic)"
    )


def test_plugin_roles_are_matched_the_same_way(repo: Path) -> None:
    roles = {**ROLE_PROMPTS, "security-auditor": "You audit."}
    plan = check_answer({"tasks": [task("a", role="Security Auditor")]}, "g", repo, roles)
    assert plan.tasks[0].role == "security-auditor"
