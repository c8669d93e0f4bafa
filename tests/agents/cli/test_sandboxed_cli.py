"""Real coding CLIs in the bubblewrap sandbox, in a whole `maestro-tui run`.

Each CLI runs with its shell allowed without asking: Claude Code with every tool allowed, as
the issue fears; Codex as its preset runs it, its own bwrap sandbox nested inside maestro's.
One task's shell tries to read ~/.ssh/id_rsa and write ~/x and the user's checkout; another
task's edit merges; the CLI's own config folder is the one part of $HOME it sees, and keeps.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli.e2e import (
    Answer,
    Moves,
    Router,
    claude_env,
    codex_env,
    plan_toml,
    run_maestro,
    sample_repo,
)
from tests.agents.cli_harness import CLIS
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import ToolCall, Turn

pytestmark = pytest.mark.cli

NOTE = "Written by a coding CLI in a sandbox.\n"
SANDBOX = '[sandbox]\nkind = "bwrap"\n\n[run]\nretries = 0\n'


@dataclass(frozen=True)
class Case:
    config: str  # maestro.toml beyond [sandbox]
    env: Callable[[str], dict[str, str]]  # the user's variables, given the server's URL
    shell: Callable[[str], Turn]  # a turn that runs a shell command
    home: str  # its allow-listed config folder
    sessions: str  # where under it a session is kept


CASES = {
    "claude": Case(
        # As root it needs IS_SANDBOX=1 to skip permissions.
        config="""
[workers.claude]
argv = ["claude", "-p", "{prompt}", "--output-format", "stream-json", "--verbose",
        "--include-partial-messages", "--dangerously-skip-permissions"]
env = { DISABLE_AUTOUPDATER = "1", IS_SANDBOX = "1" }
""",
        env=claude_env,
        shell=lambda cmd: Turn(
            text="Looking around.",
            tool_calls=(ToolCall("Bash", {"command": cmd, "description": "Look around"}),),
        ),
        home=".claude",
        sessions="projects",
    ),
    "codex": Case(
        config="",  # the preset as it is (-s workspace-write: its own bwrap, nested)
        env=codex_env,
        shell=lambda cmd: Turn(tool_calls=(ToolCall("exec_command", {"cmd": cmd}),)),
        home=".codex",
        sessions="sessions",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_cli_in_the_sandbox_edits_and_cannot_reach_out(name: str, tmp_path: Path) -> None:
    reason = netns.unavailable_reason() or CLIS[name].missing_reason()
    if reason or shutil.which("bwrap") is None:
        pytest.skip(reason or "bubblewrap is not installed: apt-get install bubblewrap")
    case = CASES[name]
    m = Moves(name)
    plan = plan_toml(
        [
            {"id": "notes", "title": "Add notes", "files": ["notes.txt"], "worker": name},
            {"id": "peek", "title": "Look around", "files": ["key.txt"], "worker": name},
        ]
    )
    root = tmp_path / "run"
    root.mkdir()
    home = root / "home"
    (home / case.home).mkdir(parents=True)  # allow-listed: shown, read-write
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN FAKE KEY-----\n")
    repo_file = root / "project" / "greet.py"
    escape = f"cat {home}/.ssh/id_rsa; echo pwned > {home}/x; echo pwned > {repo_file}; echo tried"

    def break_out(_request: object) -> Answer:
        return case.shell(escape)

    scripts = {
        "notes": m.task(m.write("notes.txt", NOTE), said="Added the notes."),
        "peek": m.task(break_out, said="Done."),
    }
    with NetNamespace() as ns:
        server = CLIS[name].server().start(ns)
        server.router = Router(scripts)
        try:
            repo = sample_repo(root, SANDBOX + case.config)
            run = run_maestro(root, ns, server, repo, plan, case.env(server.url))
        finally:
            server.stop()
    assert run.merged("notes.txt") == NOTE, run.explain()
    assert run.state.tasks["notes"].status.value == "merged", run.explain()
    # Its shell ran (the model saw "tried"), but found no key and wrote nowhere.
    seen = "\n".join(str(t.body) for t in server.turns)
    assert "tried" in seen, run.explain()
    assert "BEGIN FAKE KEY" not in seen
    assert "No such file or directory" in seen and "Read-only file system" in seen, seen[-3000:]
    assert not (home / "x").exists()
    assert repo_file.read_text() == 'def greet():\n    return "hello"\n'
    # Its own folder was shown read-write: its session was kept there.
    kept = list((home / case.home / case.sessions).rglob("*.jsonl"))
    assert kept, sorted((home / case.home).rglob("*"))
