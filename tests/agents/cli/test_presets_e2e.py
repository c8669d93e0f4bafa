"""Each coding CLI through its preset, in a whole `maestro-tui run`, against its loopback API.

Per CLI, two runs go on at once (each in its own namespace, with its own server):

- everyday use, with nothing configured beyond the environment a user of that CLI has: a
  plan of three tasks (a new file, a 200 KB file written with the CLI's own write tool, an
  edit that depends on the first) merges, with the CLI's usage on the meters and in llm_calls;
- trouble, with a maestro.toml: a refused write fails its task, a usage limit (Aider: a run
  of 429s) is waited out, a server that stops answering trips the stall watchdog and the retry
  goes on with the same session (told why), red tests send a task back and the fix round goes
  on with the same session, the worker's `model` reaches the server, and (Claude Code, which
  reports usage per turn) a task's own budget stops it between two turns.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli.e2e import (
    KEY,
    Finished,
    Moves,
    Router,
    Step,
    claude_env,
    codex_env,
    plan_toml,
    run_maestro,
    sample_repo,
)
from tests.agents.cli_harness import CLIS
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import Fault, ModelServer, RecordedRequest

pytestmark = pytest.mark.cli

NOTE = "Written by a real agent CLI.\n"
# 200 KB in 400 lines: over the merge queue's 500-line limit it would wait for review.
# The trouble run's tests: red while fixme.txt says "broken".
RED_WHEN_BROKEN = (
    "python3 -c \"import pathlib, sys; p = pathlib.Path('fixme.txt');"
    " sys.exit(p.exists() and p.read_text() == 'broken\\n')\""
)
WEAK_MODELS = ("gpt-4o-mini", "gpt-4.1-mini")  # Aider's, for its summaries
LINE = " ".join(["the quick brown fox jumps over the lazy dog"] * 12)
BIG = "".join(f"{n:04d} {LINE}\n" for n in range(400))
WARM = '    return "hi there"'


@dataclass(frozen=True)
class Case:
    cli: str
    # The user's own variables, given the server's URL: key, base URL, maybe a model.
    user_env: Callable[[str], dict[str, str]]
    model: str  # what the server should see the CLI ask for in the everyday run
    configured_model: str  # the worker's `model` in the trouble run, as passed to the CLI
    server_sees: str  # ... and as the server sees it
    sessions: bool = True
    cost_from_cli: bool = False
    limit: tuple[Fault, ...] = (Fault("usage_limit"),)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Silence that trips the watchdog: above the CLI's own silence while it starts, with
    # seven of it starting at once on two busy cores (Aider imports litellm first).
    stall_s: float = 8


CASES = {
    "claude": Case(
        "claude",
        claude_env,
        model="claude-sonnet-4-5",
        configured_model="claude-haiku-4-5",
        server_sees="claude-haiku-4-5",
        cost_from_cli=True,
    ),
    "codex": Case(
        "codex",
        codex_env,
        model="gpt-6.2-sol",  # its own default
        configured_model="gpt-5.5",
        server_sees="gpt-5.5",
    ),
    "gemini": Case(
        "gemini",
        lambda url: {
            "GEMINI_API_KEY": KEY,
            "GOOGLE_GEMINI_BASE_URL": url,
            "GEMINI_MODEL": "gemini-2.5-flash",
        },
        model="gemini-2.5-flash",
        configured_model="gemini-2.5-pro",
        server_sees="gemini-2.5-pro",
        stall_s=15,  # a Node.js program that takes seconds to start, several at once
    ),
    "aider": Case(
        "aider",
        lambda url: {
            "OPENAI_API_KEY": KEY,
            "OPENAI_API_BASE": url + "/v1",
            "AIDER_MODEL": "openai/gpt-4o",
        },
        model="gpt-4o",
        configured_model="openai/gpt-4.1",
        server_sees="gpt-4.1",
        sessions=False,
        cost_from_cli=True,
        # Its OpenAI client retries twice within a second; the third 429 reaches Aider,
        # which says so and waits (the "usage limit" of the others would take ~80 s).
        limit=(Fault("rate_limit"), Fault("rate_limit"), Fault("rate_limit")),
        stall_s=15,
    ),
}


def everyday(case: Case) -> tuple[str, Mapping[str, list[Step]]]:
    m = Moves(case.cli)
    tasks = [
        {"id": "notes", "title": "Add notes", "files": ["notes.txt"]},
        {"id": "big", "title": "Add the data file", "files": ["data/big.txt"]},
        {"id": "greet", "title": "Greet warmly", "files": ["greet.py"], "depends_on": ["notes"]},
    ]
    scripts = {
        "notes": m.task(m.write("notes.txt", NOTE), said="Added the notes."),
        "big": m.task(m.write("data/big.txt", BIG), said="Added the data file."),
        "greet": m.task(m.edit("greet.py", '    return "hello"', WARM), said="Warmer now."),
    }
    return plan_toml([{**t, "worker": case.cli} for t in tasks]), scripts


def trouble(case: Case) -> tuple[str, str, Mapping[str, list[Step]]]:
    m = Moves(case.cli)
    tasks: list[dict[str, object]] = [
        {"id": "refused", "title": "Write outside", "files": ["outside.txt"]},
        {"id": "limited", "title": "Add limited.txt", "files": ["limited.txt"]},
        {"id": "stalled", "title": "Add stalled.txt", "files": ["stalled.txt"]},
        {"id": "fix", "title": "Add fixme.txt", "files": ["fixme.txt"]},
    ]
    outside = m.write("../outside.txt", "x\n")
    scripts = {
        # Both attempts try to write outside the worktree (the retry is told why it failed).
        "refused": [*m.task(outside, said="Done."), *m.task(outside, said="Done.")],
        "limited": [*case.limit, *m.task(m.write("limited.txt", "ok\n"), said="Added it.")],
        "stalled": [Fault("stall"), *m.task(m.write("stalled.txt", "ok\n"), said="Added it.")],
        # Red tests send it back: the fix round goes on with the same session.
        "fix": [
            *m.task(m.write("fixme.txt", "broken\n"), said="Added it."),
            *m.task(m.edit("fixme.txt", "broken", "fixed"), said="Fixed it."),
        ],
    }
    if case.cli == "claude":  # per-turn usage: its own budget stops it between two turns
        tasks.append({"id": "budgeted", "title": "Add six files", "budget_tokens": 50_000})
        writes = [m.write(f"many/{i}.txt", f"{i}\n") for i in range(6)]
        scripts["budgeted"] = m.task(*writes, said="All six.")
    config = (
        "[run]\nretries = 1\nretry_backoff_s = 0.1\nlimit_wait_s = 0.5\n"
        f"stall_s = {case.stall_s}\n\n[tests]\ncommand = {json.dumps(RED_WHEN_BROKEN)}\n\n"
        f'[workers.{case.cli}]\nmodel = "{case.configured_model}"\n'
    )
    return plan_toml([{**t, "worker": case.cli} for t in tasks]), config, scripts


def _run(
    case: Case, root: Path, plan: str, scripts: Mapping[str, list[Step]], config: str = ""
) -> Finished:
    root.mkdir()
    cli = CLIS[case.cli]
    with NetNamespace() as ns:
        server: ModelServer = cli.server().start(ns)
        server.router = Router(scripts, weak_models=WEAK_MODELS)
        try:
            repo = sample_repo(root, config)
            env = {**case.user_env(server.url), **case.extra_env}
            return run_maestro(root, ns, server, repo, plan, env)
        finally:
            server.stop()


@pytest.mark.parametrize("name", list(CASES))
def test_a_real_cli_through_its_preset(name: str, tmp_path: Path) -> None:
    reason = netns.unavailable_reason() or CLIS[name].missing_reason()
    if reason:
        pytest.skip(reason)
    case = CASES[name]
    plan, scripts = everyday(case)
    bad_plan, config, bad_scripts = trouble(case)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        good_run = pool.submit(_run, case, tmp_path / "everyday", plan, scripts)
        bad_run = pool.submit(_run, case, tmp_path / "trouble", bad_plan, bad_scripts, config)
        good, bad = good_run.result(), bad_run.result()
    check_everyday(case, good)
    check_trouble(case, bad)


def summary_request(request: RecordedRequest) -> bool:
    """Aider has its chat history summarised after a long reply (here, the 200 KB file), by
    its weak model or, when that fails, its main one: requests it never reports, so they are
    not on the meters (see README)."""
    if request.model in WEAK_MODELS:
        return True
    messages = request.body.get("messages") or [{}] if isinstance(request.body, dict) else [{}]
    return str(messages[0].get("content", "")).startswith("*Briefly* summarize")


def check_everyday(case: Case, run: Finished) -> None:
    assert run.run.exit_code == 0, run.explain()
    assert "run finished: succeeded — 3 merged" in run.run.stdout, run.explain()
    assert run.merged("notes.txt") == NOTE
    assert run.merged("data/big.txt") == BIG
    assert run.merged("greet.py") == f"def greet():\n{WARM}\n"
    assert run.server.script_errors == []
    assert {t.model for t in run.server.turns if not summary_request(t)} == {case.model}
    # The CLI's usage, on the meters and in llm_calls: exactly what the server reported.
    calls = run.llm_calls()
    served = [t.usage for t in run.server.turns if t.usage and not summary_request(t)]
    assert sum(c[2] for c in calls) == sum(u[0] for u in served), calls
    assert sum(c[3] for c in calls) == sum(u[1] for u in served), calls
    assert {c[0] for c in calls} == {"notes", "big", "greet"}
    state = run.state
    assert state.tokens_in == sum(c[2] for c in calls) and state.tokens_out > 0
    assert set(state.models) <= {case.model, f"openai/{case.model}", "codex:default"}
    if case.cost_from_cli:
        assert state.cost_usd > 0 and state.unpriced_calls == 0, calls
    for task in ("notes", "big", "greet"):
        trailers = run.trailers(task)
        assert trailers["Maestro-Agent"] == f"command:{case.cli}"
        assert trailers["Maestro-Model"].removeprefix("openai/") in (case.model, "codex:default")
        assert run.of("FileChanged", task), f"no FileChanged for {task}"
        assert bool(run.of("AgentSession", task)) == case.sessions
    assert "run finished" in run.run.stdout and "Traceback" not in run.run.stderr
    # The lab has no git identity: the agents got ours, and wrote none into the user's repo.
    assert "[user]" not in (run.repo / ".git" / "config").read_text()


def check_trouble(case: Case, run: Finished) -> None:
    assert run.run.exit_code == 1, run.explain()
    state = run.state
    assert state.tasks["refused"].status.value == "failed", run.explain()
    assert "refused" in state.tasks["refused"].reason or "none of its edits" in (
        state.tasks["refused"].reason
    ), state.tasks["refused"].reason
    assert not (run.repo.parent / "outside.txt").exists() or case.cli == "aider"
    # The limit is waited out, with the reason on the dashboard, and the task merges.
    assert state.tasks["limited"].status.value == "merged", run.explain()
    assert run.merged("limited.txt") == "ok\n"
    assert run.of("TaskWaiting", "limited"), run.explain()
    # A silent server: stopped at stall_s, the task retried, and the retry merges.
    stalls = run.of("TaskStalled", "stalled")
    assert len(stalls) == 1 and stalls[0].silent_s >= case.stall_s, run.explain()
    assert state.tasks["stalled"].status.value == "merged", run.explain("stalled")
    assert state.tasks["stalled"].attempts == 2
    # Red tests went back to the agent, which fixed its work in the same session.
    assert state.tasks["fix"].status.value == "merged", run.explain()
    assert run.merged("fixme.txt") == "fixed\n" and len(run.of("TaskFixing", "fix")) == 1
    if case.sessions:
        fix_sessions = run.of("AgentSession", "fix")
        assert [s.resumed for s in fix_sessions] == [False, True]
        assert len({s.session_id for s in fix_sessions}) == 1
    told = [json.dumps(t.body) for t in run.server.turns if "@stalled@" in json.dumps(t.body)]
    assert any("previous attempt at this task failed" in b and "stalled" in b for b in told)
    if case.sessions:  # the retry went on with the session the stalled attempt had begun
        first, *later = run.of("AgentSession", "stalled")
        assert later and later[-1].session_id == first.session_id and later[-1].resumed
    # The worker's model reached the server, on every request of this run, and the commit
    # names the model actually used (Claude Code, asked for an old model, may use another).
    assert {t.model for t in run.server.turns if not summary_request(t)} == {case.server_sees}
    model = run.trailers("limited")["Maestro-Model"].removeprefix("openai/")
    assert model == case.server_sees
    if "budgeted" in state.tasks:  # ~22k tokens a turn: stopped after three of seven
        budgeted = state.tasks["budgeted"]
        assert budgeted.status.value == "failed" and "over its budget" in budgeted.reason
        router = run.server.router
        assert isinstance(router, Router) and router.asked["budgeted"] <= 5
        assert run.merged("many/5.txt") is None
