"""Issue 19's "done when": a user with only Claude Code logged in — no API key anywhere — runs
`maestro-tui run GOAL --planner claude` with every task on Claude Code. The plan comes from
Claude Code after it read the code, the run goes on as with any plan, and the planner's
usage is on the run's meters as planner usage.

maestro-tui runs inside the loopback-only namespace with the scripted Messages API; Claude
Code finds its login in its home (`~/.claude/.credentials.json`), as after `claude login`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli.e2e import Finished, Moves, Router, read_events, sample_repo
from tests.agents.cli_harness import CLIS, base_env, run_in_netns
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import RecordedRequest, ToolCall, Turn

pytestmark = pytest.mark.cli

GOAL = "Add notes and greet warmly"
TOKEN = "sk-ant-oat01-lab-login-token"  # an OAuth access token, as `claude login` leaves it
NOTE = "Planned by Claude Code, written by Claude Code.\n"
WARM = '    return "hi there"'
PLAN = {
    "tasks": [
        {
            "id": "notes",
            "title": "Add notes",
            "role": "doc_writer",
            "prompt": "Write notes.txt. @notes@",
            "files": ["notes.txt"],
            "depends_on": [],
        },
        {
            "id": "greet",
            "title": "Greet warmly",
            "role": "coder",
            "prompt": "Make greet() warmer. @greet@",
            "files": ["greet.py"],
            "depends_on": ["notes"],
        },
    ]
}


def planner_step(request: RecordedRequest) -> Turn:
    """The planner's model: it reads greet.py, then answers with the plan."""
    assert request.workdir, "Claude Code did not tell the model its working directory"
    if not request.tool_results:
        path = str(Path(request.workdir) / "greet.py")
        return Turn(text="Reading the code.", tool_calls=(ToolCall("Read", {"file_path": path}),))
    return Turn(tool_calls=(ToolCall("StructuredOutput", PLAN),))


class Routes(Router):
    """Tasks by their marker; every other request is the planner's."""

    def __call__(self, request: RecordedRequest) -> Turn:
        if self.task_of(request) is None:
            self.asked["planner"] += 1
            return planner_step(request)
        answer = super().__call__(request)
        assert isinstance(answer, Turn)
        return answer


def login(home: Path) -> None:
    """What `claude login` leaves: an OAuth token in its home, no key in any variable."""
    (home / ".claude").mkdir(parents=True)
    expires = int((time.time() + 86400 * 365) * 1000)
    oauth = {"accessToken": TOKEN, "refreshToken": "sk-ant-ort01-lab", "expiresAt": expires}
    oauth |= {"scopes": ["user:inference", "user:profile"], "subscriptionType": "max"}
    (home / ".claude" / ".credentials.json").write_text(json.dumps({"claudeAiOauth": oauth}))


def test_a_user_logged_in_to_claude_code_plans_and_works_with_it_alone(tmp_path: Path) -> None:
    reason = netns.unavailable_reason() or CLIS["claude"].missing_reason()
    if reason:
        pytest.skip(reason)
    m = Moves("claude")
    scripts = {
        "notes": m.task(m.write("notes.txt", NOTE), said="Added the notes."),
        "greet": m.task(m.edit("greet.py", '    return "hello"', WARM), said="Warmer now."),
    }
    with NetNamespace() as ns:
        server = CLIS["claude"].server().start(ns)
        server.router = Routes(scripts)
        try:
            repo = sample_repo(tmp_path, '[run]\ndefault_worker = "claude"\n')
            home, tmp = tmp_path / "home", tmp_path / "tmp"
            login(home)
            tmp.mkdir()
            db = tmp_path / "runs.db"
            env = {
                "ANTHROPIC_BASE_URL": server.url,
                "ANTHROPIC_MODEL": "claude-sonnet-4-5",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_TELEMETRY": "1",
                "CLAUDE_CODE_MAX_RETRIES": "0",
            }
            argv = [sys.executable, "-m", "maestro_tui", "run", GOAL, "--planner", "claude"]
            argv += ["--repo", str(repo), "--headless", "--db", str(db), "--yes"]
            done = run_in_netns(argv, ns, cwd=repo, env=base_env(home, tmp, env), timeout_s=240)
            run = Finished(done, repo, db, server, read_events(db) if db.exists() else [])
        finally:
            server.stop()

    assert done.exit_code == 0, run.explain()
    assert "run finished: succeeded — 2 merged" in done.stdout, run.explain()
    assert run.merged("notes.txt") == NOTE
    assert run.merged("greet.py") == f"def greet():\n{WARM}\n"
    assert server.script_errors == []
    # Claude Code's login, and nothing else, spoke to the model.
    assert {t.headers.get("authorization") for t in server.turns} == {f"Bearer {TOKEN}"}
    assert not any("x-api-key" in t.headers for t in server.turns)

    # The plan came from Claude Code, read-only in a scratch checkout, after it read the code.
    planning = [t for t in server.turns if Routes(scripts).task_of(t) is None]
    assert len(planning) == 2 and 'return "hello"' in planning[1].tool_results[0].text
    assert all("/.scratch/" in (t.workdir or "") for t in planning)
    offered = {tool["name"] for tool in planning[0].body["tools"]}
    assert offered - {"DeferredToolPlaceholder"} == {"Read", "Grep", "Glob", "StructuredOutput"}
    (proposed,) = run.of("PlanProposed")
    assert [t["id"] for t in proposed.plan["tasks"]] == ["notes", "greet"]
    assert {e.worker for e in run.of("TaskStarted")} == {"claude"}

    # Its usage is on the meters as the planner's: what the server reported, priced.
    planner_usage = [e for e in run.of("LLMUsage") if e.purpose == "planner"]
    assert sum(e.tokens_in for e in planner_usage) == sum(t.usage[0] for t in planning if t.usage)
    assert sum(e.tokens_out for e in planner_usage) == sum(t.usage[1] for t in planning if t.usage)
    assert all(e.task_id is None for e in planner_usage)
    assert sum(e.cost_usd or 0 for e in planner_usage) > 0
    work = [e for e in run.of("LLMUsage") if e.purpose != "planner"]
    assert {e.task_id for e in work} == {"notes", "greet"}
    assert run.state.cost_usd == pytest.approx(sum(e.cost_usd or 0 for e in run.of("LLMUsage")))
    # Its scratch checkout is gone.
    assert not list(home.glob(".cache/maestro-tui/worktrees/*/.planner-*"))
