"""Claude Code in the bubblewrap sandbox, in a whole `maestro-tui run`: its edit merges, its
own config folder is the one part of $HOME it sees (and keeps), and the rest is hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli.e2e import KEY, Answer, Moves, Router, plan_toml, run_maestro, sample_repo
from tests.agents.cli_harness import CLIS
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import RecordedRequest, ToolCall, Turn

pytestmark = pytest.mark.cli

NOTE = "Written by Claude Code in a sandbox.\n"
# Claude Code as the issue fears it: every tool allowed without asking (as root it needs
# IS_SANDBOX=1 for that), so only the sandbox stands between it and the user's files.
CONFIG = """
[sandbox]
kind = "bwrap"

[run]
retries = 0

[workers.claude]
argv = ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
        "--include-partial-messages", "--dangerously-skip-permissions"]
env = { DISABLE_AUTOUPDATER = "1", IS_SANDBOX = "1" }
"""


def test_claude_code_edits_in_the_sandbox_and_keeps_its_config(tmp_path: Path) -> None:
    reason = netns.unavailable_reason() or CLIS["claude"].missing_reason()
    if reason or shutil.which("bwrap") is None:
        pytest.skip(reason or "bubblewrap is not installed")
    m = Moves("claude")
    plan = plan_toml(
        [
            {"id": "notes", "title": "Add notes", "files": ["notes.txt"], "worker": "claude"},
            {"id": "peek", "title": "Read a key", "files": ["key.txt"], "worker": "claude"},
        ]
    )
    root = tmp_path / "run"
    root.mkdir()
    home = root / "home"
    (home / ".claude").mkdir(parents=True)  # allow-listed: shown, read-write
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN FAKE KEY-----\n")
    repo_file = root / "project" / "greet.py"
    escape = (
        f"cat {home}/.ssh/id_rsa; echo pwned > {home}/x; echo pwned > {repo_file}; echo attempted"
    )

    def break_out(request: RecordedRequest) -> Answer:
        args = {"command": escape, "description": "Look around"}
        return Turn(text="Looking around.", tool_calls=(ToolCall("Bash", args),))

    scripts = {
        "notes": m.task(m.write("notes.txt", NOTE), said="Added the notes."),
        "peek": m.task(break_out, said="Done."),
    }
    env = {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_MODEL": "claude-sonnet-4-5",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }
    with NetNamespace() as ns:
        server = CLIS["claude"].server().start(ns)
        server.router = Router(scripts)
        try:
            repo = sample_repo(root, CONFIG)
            run = run_maestro(
                root, ns, server, repo, plan, {**env, "ANTHROPIC_BASE_URL": server.url}
            )
        finally:
            server.stop()
    assert run.merged("notes.txt") == NOTE, run.explain()
    assert run.state.tasks["notes"].status.value == "merged", run.explain()
    # Its shell ran (the model saw "attempted"), but found no key and wrote nowhere.
    seen = "\n".join(str(t.body) for t in server.turns)
    assert "attempted" in seen, seen[-3000:]
    assert "BEGIN FAKE KEY" not in seen
    assert "No such file or directory" in seen and "Read-only file system" in seen
    assert not (home / "x").exists()
    assert repo_file.read_text() == 'def greet():\n    return "hello"\n'
    # Its own folder was shown read-write: its session was kept there.
    assert list((home / ".claude").rglob("*.jsonl")), sorted((home / ".claude").rglob("*"))
