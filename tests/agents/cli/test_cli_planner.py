"""Each coding CLI as the planner, for real, against its scripted API in a loopback-only netns.

The planner runs here (maestro-tui's own code: read-only flags, session, checks, meters); the
CLI it starts by name is the installed one, run inside the namespace by a wrapper on PATH.
Per CLI: a valid plan on the first answer after reading the code; a plan repaired in the same
session after a validation error; and a model that tries to write (in its checkout, in the
user's checkout, through a shell, out of its plan mode) and is refused, while the plan comes.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.config import Config
from maestro_tui.config.presets import PRESETS
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.planning import PlanningLog
from maestro_tui.llm.cli_planner import plan_with_cli, planner_cli
from maestro_tui.llm.client import Completion
from tests.agents import netns
from tests.agents.cli.e2e import KEY, claude_env, codex_env, sample_repo
from tests.agents.cli.helpers import git, programs_in_netns
from tests.agents.cli_harness import CLIS, base_env, run_in_netns
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import ModelServer, RecordedRequest, Step, ToolCall, Turn
from tests.agents.servers.openai_responses import apply_patch_add

pytestmark = pytest.mark.cli

GOAL = "Greet warmly, and test it"


def task(tid: str, files: list[str], deps: list[str], prompt: str = "") -> dict[str, Any]:
    return {
        "id": tid,
        "title": tid.replace("-", " ").capitalize(),
        "role": "tester" if tid.startswith("test") else "coder",
        "prompt": prompt or f"{tid}: see greet.py",
        "files": files,
        "depends_on": deps,
    }


GOOD = {
    "tasks": [
        task("warm-greeting", ["greet.py"], []),
        task("test-greeting", ["test_greet.py"], ["warm-greeting"]),
    ]
}
# Semantically wrong, schema-valid: an unknown dependency. Its prompt shows in the history
# of the session it is sent back to (and nowhere else).
DRAFT = {"tasks": [task("warm-greeting", ["greet.py"], ["nope"], prompt="FIRST-DRAFT")]}


def _abs(request: RecordedRequest, path: str) -> str:
    assert request.workdir, "the CLI did not tell the model its working directory"
    return str(Path(request.workdir) / path)


def _call(name: str, args: Callable[[RecordedRequest], dict[str, Any]] | dict[str, Any]) -> Step:
    def step(request: RecordedRequest) -> Turn:
        given = args(request) if callable(args) else args
        return Turn(text=f"Using {name}.", tool_calls=(ToolCall(name, given),))

    return step


@dataclass(frozen=True)
class Case:
    """How a model speaking to one CLI reads, tries to write, and answers; what a user has."""

    cli: str
    env: Callable[[str], dict[str, str]]
    read: Step
    answer: Callable[[Mapping[str, Any]], Step]
    writes: Callable[[Path], list[Step]]
    read_tools: frozenset[str]  # every tool the model is offered
    model: str = ""  # [workers.<cli>] model


def _gemini_env(url: str) -> dict[str, str]:
    return {"GEMINI_API_KEY": KEY, "GOOGLE_GEMINI_BASE_URL": url, "GEMINI_MODEL": "gemini-2.5-pro"}


CASES = {
    "claude": Case(
        "claude",
        claude_env,
        read=_call("Read", lambda r: {"file_path": _abs(r, "greet.py")}),
        answer=lambda plan: _call("StructuredOutput", dict(plan)),
        writes=lambda repo: [
            _call("Write", lambda r: {"file_path": _abs(r, "planned.txt"), "content": "x\n"}),
            _call("Write", {"file_path": str(repo / "evil.txt"), "content": "x\n"}),
            _call("Bash", {"command": f"touch {repo / 'evil.txt'}", "description": "Touch"}),
        ],
        read_tools=frozenset({"Read", "Grep", "Glob", "StructuredOutput"}),
    ),
    "codex": Case(
        "codex",
        codex_env,
        read=_call("exec_command", {"cmd": "cat greet.py"}),
        answer=lambda plan: Turn(text=json.dumps(plan)),
        writes=lambda repo: [
            Turn(tool_calls=(ToolCall("apply_patch", apply_patch_add("planned.txt", "x")),)),
            _call("exec_command", {"cmd": f"touch {repo / 'evil.txt'}"}),
            _call(
                "exec_command",
                {"cmd": f"touch {repo / 'evil.txt'}", "sandbox_permissions": "require_escalated"},
            ),
        ],
        # Its tools stay offered; its sandbox refuses every write (checked below).
        read_tools=frozenset(),
        model="gpt-5.5",  # in its catalogue (apply_patch offered) and priced by litellm
    ),
    "gemini": Case(
        "gemini",
        _gemini_env,
        read=_call("read_file", lambda r: {"file_path": _abs(r, "greet.py")}),
        answer=lambda plan: Turn(text=json.dumps(plan)),
        writes=lambda repo: [
            _call("exit_plan_mode", {"plan_filename": "plan.md"}),  # plan mode's way out
            _call("write_file", {"file_path": str(repo / "evil.txt"), "content": "x"}),
            _call("run_shell_command", {"command": f"touch {repo / 'evil.txt'}"}),
        ],
        read_tools=frozenset({"read_file", "read_many_files", "list_directory", "glob"})
        | {"grep_search", "search_file_content"},
    ),
}


@dataclass
class Planning:
    """One CLI's server in its namespace, a user's repository, and the planner's results."""

    case: Case
    server: ModelServer
    repo: Path
    config: Config
    log: PlanningLog
    usage: list[Completion]
    took_s: float = 0.0

    async def plan(self) -> Plan:
        spec = planner_cli(self.config)
        assert spec is not None
        started = time.monotonic()
        try:
            return await plan_with_cli(
                self.config, spec, GOAL, self.repo, self.usage.append, self.log
            )
        finally:
            self.took_s = time.monotonic() - started

    def requests_with(self, text: str) -> list[RecordedRequest]:
        return [t for t in self.server.turns if text in json.dumps(t.body)]


@pytest.fixture(params=list(CASES))
def planning(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Planning]:
    """The case's server in a fresh namespace, a user's environment for its CLI, a repo."""
    case = CASES[request.param]
    reason = netns.unavailable_reason() or CLIS[case.cli].missing_reason()
    if reason:
        pytest.skip(reason)
    with NetNamespace() as ns:
        server = CLIS[case.cli].server().start(ns)
        try:
            home = tmp_path / "home"
            home.mkdir()
            monkeypatch.setenv("HOME", str(home))
            monkeypatch.setenv("PATH", programs_in_netns(ns, tmp_path / "bin", case.cli))
            for name, value in case.env(server.url).items():
                monkeypatch.setenv(name, value)
            workers = dict(PRESETS)
            if case.model:
                workers[case.cli] = replace(PRESETS[case.cli], model=case.model)
            config = Config(
                planner=case.cli, workers=workers, worktree_root=str(tmp_path / "worktrees")
            )
            repo = sample_repo(tmp_path)
            yield Planning(case, server, repo, config, PlanningLog(), [])
        finally:
            server.stop()


def check_plan(plan: Plan) -> None:
    assert [t.id for t in plan.tasks] == ["warm-greeting", "test-greeting"]
    assert plan.goal == GOAL and plan.by_id["test-greeting"].depends_on == ("warm-greeting",)
    assert plan.by_id["test-greeting"].role == "tester"


def check_left_nothing(p: Planning) -> None:
    """The scratch checkout and its folder are gone; the user's checkout is as it was."""
    assert not list(Path(p.config.worktree_root or "").glob("*/.scratch/*"))
    assert git(p.repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(p.repo, "status", "--porcelain") == ""
    assert not (p.repo / "evil.txt").exists() and not (p.repo / "planned.txt").exists()


def check_meters(p: Planning) -> None:
    """Every token the server reported is on the meters, priced."""
    served = [t.usage for t in p.server.turns if t.usage]
    assert sum(c.tokens_in for c in p.usage) == sum(u[0] for u in served) > 0
    assert sum(c.tokens_out for c in p.usage) == sum(u[1] for u in served) > 0
    assert all(c.cost_usd and c.cost_usd > 0 for c in p.usage), p.usage
    assert (p.log.tokens_in, p.log.unpriced) == (sum(u[0] for u in served), 0)


async def test_a_valid_plan_on_the_first_answer_after_reading_the_code(
    planning: Planning,
) -> None:
    case = planning.case
    planning.server.script(case.read, case.answer(GOOD))
    plan = await planning.plan()

    check_plan(plan)
    assert planning.server.script_errors == [] and planning.server.pending_steps == 0
    turns = planning.server.turns
    assert len(turns) == 2
    # It worked in the scratch checkout, never in the user's.
    workdirs = {t.workdir for t in turns if t.workdir}
    assert workdirs and all("/.scratch/" in w for w in workdirs), workdirs
    assert any(r.startswith(("greet.py", "cat greet.py")) for r in planning.log.reads), (
        planning.log.reads
    )
    check_meters(planning)
    check_left_nothing(planning)
    check_read_only_on_the_wire(case, turns[0])


def check_read_only_on_the_wire(case: Case, first: RecordedRequest) -> None:
    """What the model was offered: only reading tools, and the answer's schema."""
    body = first.body
    if case.cli == "claude":
        offered = {t["name"] for t in body["tools"]} - {"DeferredToolPlaceholder"}
        assert offered == case.read_tools
        schema = next(t for t in body["tools"] if t["name"] == "StructuredOutput")
        assert schema["input_schema"]["required"] == ["tasks"]
    elif case.cli == "codex":
        assert body["text"]["format"]["type"] == "json_schema"
        assert body["text"]["format"]["strict"] is True
        meta = json.loads(body["client_metadata"]["x-codex-turn-metadata"])
        assert meta["sandbox_mode"] == "read-only"
    else:
        offered = {f["name"] for tools in body["tools"] for f in tools["functionDeclarations"]}
        assert offered and offered <= case.read_tools, offered
        said = " ".join(p.get("text", "") for c in body["contents"] for p in c["parts"])
        assert '"depends_on"' in said and "JSON schema" in said  # the schema, in the prompt


async def test_a_plan_that_fails_validation_is_repaired_in_the_same_session(
    planning: Planning,
) -> None:
    case = planning.case
    planning.server.script(case.answer(DRAFT), case.answer(GOOD))
    plan = await planning.plan()

    check_plan(plan)
    first, repair = planning.server.turns
    told = json.dumps(repair.body)
    assert "The plan was rejected" in told and "unknown dependency 'nope'" in told
    # The same session went on: its history holds the goal and the rejected draft.
    assert GOAL in told and "FIRST-DRAFT" in told
    assert planning.log.text.count(next(t for t in planning.log.text if "rejected" in t)) == 1
    check_meters(planning)
    check_left_nothing(planning)


async def test_a_cli_that_tries_to_write_is_refused_and_the_plan_still_comes(
    planning: Planning,
) -> None:
    case = planning.case
    writes = case.writes(planning.repo)
    planning.server.script(*writes, case.read, case.answer(GOOD))
    plan = await planning.plan()

    check_plan(plan)
    assert planning.server.script_errors == []
    refused = [r for t in planning.server.turns[1 : len(writes) + 1] for r in t.tool_results]
    assert len(refused) == len(writes), refused
    for result in refused:
        text = result.text.lower()
        assert result.is_error or any(
            words in text
            for words in ("no such tool", "not found", "read-only", "reject", "blocked")
        ), result
    assert not any("changed its read-only checkout" in t for t in planning.log.text)
    check_left_nothing(planning)


def test_in_the_sandbox_it_plans_from_its_checkout_and_sees_not_the_users(
    tmp_path: Path,
) -> None:
    """`maestro-tui plan` with [sandbox] kind = "bwrap" and Claude Code as the planner, run
    inside the namespace (the sandbox's own PID namespace leaves no /proc path for a wrapper
    to enter it by): a Read of the user's checkout finds nothing, the scratch checkout is
    read, and the plan is printed."""
    reason = netns.unavailable_reason() or CLIS["claude"].missing_reason()
    if reason or shutil.which("bwrap") is None:
        pytest.skip(reason or "bubblewrap is not installed: apt-get install bubblewrap")
    case = CASES["claude"]
    toml = '[llm]\nplanner = "claude"\n\n[sandbox]\nkind = "bwrap"\n\n[run]\n'
    toml += f'worktree_root = "{tmp_path / "worktrees"}"\n'
    repo = sample_repo(tmp_path, toml)
    users = str(repo / "greet.py")
    with NetNamespace() as ns:
        server = CLIS["claude"].server().start(ns)
        server.script(_call("Read", {"file_path": users}), case.read, case.answer(GOOD))
        try:
            home, tmp = tmp_path / "home", tmp_path / "tmp"
            home.mkdir()
            tmp.mkdir()
            argv = [sys.executable, "-m", "maestro_tui", "plan", GOAL, "--repo", str(repo)]
            env = base_env(home, tmp, claude_env(server.url))
            done = run_in_netns(argv, ns, cwd=repo, env=env, timeout_s=120)
        finally:
            server.stop()

    assert done.exit_code == 0, done.stdout + done.stderr
    assert 'id = "warm-greeting"' in done.stdout and 'id = "test-greeting"' in done.stdout
    assert "planner: 3 call(s)" in done.stderr, done.stderr
    hidden, shown = (t.tool_results[0] for t in server.turns[1:])
    assert hidden.is_error and 'return "hello"' not in hidden.text, hidden
    assert not shown.is_error and 'return "hello"' in shown.text, shown
    assert not list((tmp_path / "worktrees").glob("*/.scratch/*"))
    assert git(repo, "status", "--porcelain") == ""
