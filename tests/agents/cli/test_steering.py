"""Steering a real Claude Code at work: `maestro-tui say` from another process reaches it as a
follow-up turn of the same session, once its current turn ends."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from tests.agents import netns
from tests.agents.cli.e2e import KEY, Moves, Router, plan_toml, read_events, sample_repo
from tests.agents.cli_harness import CLIS, base_env
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import RecordedRequest, Turn

pytestmark = pytest.mark.cli

MESSAGE = "use tabs, not spaces"


def test_a_message_to_a_claude_agent_becomes_a_follow_up_turn(tmp_path: Path) -> None:
    reason = netns.unavailable_reason() or CLIS["claude"].missing_reason()
    if reason:
        pytest.skip(reason)
    m = Moves("claude")
    asked, said = threading.Event(), threading.Event()

    def first(request: RecordedRequest) -> Turn:
        asked.set()
        assert said.wait(60), "the message was never sent"  # hold the turn until it is
        step = m.write("first.txt", "one\n")
        answer = step(request) if callable(step) else step
        assert isinstance(answer, Turn)
        return answer

    def follow_up(request: RecordedRequest) -> Turn:
        if MESSAGE not in str(request.body["messages"][-1]):
            return Turn(text="I heard nothing.")
        step = m.write("second.txt", "two\n")
        answer = step(request) if callable(step) else step
        assert isinstance(answer, Turn)
        return answer

    script = [first, m.done("Wrote first.txt."), follow_up, m.done("Wrote second.txt, with tabs.")]
    with NetNamespace() as ns:
        server = CLIS["claude"].server().start(ns)
        server.router = Router({"steer": script})
        try:
            repo = sample_repo(tmp_path)
            plan = tmp_path / "plan.toml"
            plan.write_text(
                plan_toml([{"id": "steer", "title": "Write two files", "worker": "claude"}])
            )
            home, tmp = tmp_path / "home", tmp_path / "tmp"
            home.mkdir()
            tmp.mkdir()
            db = tmp_path / "runs.db"
            env = base_env(
                home,
                tmp,
                {
                    "ANTHROPIC_API_KEY": KEY,
                    "ANTHROPIC_BASE_URL": server.url,
                    "ANTHROPIC_MODEL": "claude-haiku-4-5",
                    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                },
            )
            argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan), "--repo"]
            argv += [str(repo), "--db", str(db), "--headless", "--yes"]
            driver = subprocess.Popen(
                ns.command(argv), env=env, cwd=repo, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert asked.wait(60), "Claude Code never asked the model"
                run_id = read_events(db)[0].run_id
                say = [sys.executable, "-m", "maestro_tui", "say", run_id, "steer", MESSAGE]
                sent = subprocess.run(
                    [*say, "--db", str(db)], capture_output=True, text=True, timeout=60
                )
                said.set()
                assert sent.returncode == 0, sent.stderr
                assert "steer: sent: the agent takes it as a follow-up turn" in sent.stdout
                out, err = driver.communicate(timeout=120)
            finally:
                said.set()
                if driver.poll() is None:
                    driver.kill()
                    driver.communicate()
        finally:
            server.stop()
    assert driver.returncode == 0, out + err
    events = read_events(db)
    delivered = [e for e in events if isinstance(e, ev.SteerDelivered)]
    assert [(e.task, e.text) for e in delivered] == [("steer", MESSAGE)]
    sessions = [e for e in events if isinstance(e, ev.AgentSession)]
    assert [s.resumed for s in sessions] == [False, True]
    assert sessions[0].session_id == sessions[1].session_id
    assert "» delivered to the agent: use tabs, not spaces" in out
    follow = server.turns[2].body["messages"]
    assert "Write two files" in str(follow) and MESSAGE in str(follow[-1])  # same session
    shown = subprocess.run(
        ["git", "show", f"maestro/{run_id}:second.txt"], cwd=repo, capture_output=True, text=True
    )
    assert shown.stdout == "two\n"
    last = [e for e in events if isinstance(e, ev.TaskFinished)][-1]
    assert last.summary == "Wrote second.txt, with tabs."
