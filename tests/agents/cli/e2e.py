"""A whole `maestro-tui run --headless` driving a real coding CLI through its preset, offline.

The model server and maestro-tui share a loopback-only network namespace; maestro-tui starts
the CLI, which inherits it. Tasks run concurrently, so the server routes each request to its
task's own script by a marker in the task's prompt (`@task@`), counting the requests per task:
a retry or a resumed session simply gets the task's next step. The environment is what a user
of that CLI has (a key, a base URL, maybe a model variable): nothing else is configured.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro_tui.domain.events import Event
from maestro_tui.domain.state import RunState, fold
from maestro_tui.store.codec import decode_event
from tests.agents.cli.helpers import git
from tests.agents.cli_harness import AGENTS, CliRun, base_env, run_in_netns
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import Fault, ModelServer, RecordedRequest, ToolCall, Turn
from tests.agents.servers.openai_responses import apply_patch_add, apply_patch_update

Answer = Turn | Fault
Step = Answer | Callable[[RecordedRequest], Answer]
KEY = "lab-test-key-0001"
GREET = 'def greet():\n    return "hello"\n'


def claude_env(url: str) -> dict[str, str]:
    """What a user of Claude Code has, given the server's URL."""
    return {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_MODEL": "claude-sonnet-4-5",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        # Else a usage limit is retried by Claude Code itself for about three minutes.
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }


def codex_env(url: str) -> dict[str, str]:
    """What a user of Codex has, given the server's URL."""
    return {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": url + "/v1"}


def marker(task: str) -> str:
    return f"@{task}@"


class Router:
    """Answers each request with the next step of its task's script (the last one repeats)."""

    def __init__(self, scripts: Mapping[str, Sequence[Step]], weak_models: Sequence[str] = ()):
        self.scripts = dict(scripts)
        self.weak_models = set(weak_models)
        self.asked: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def task_of(self, request: RecordedRequest) -> str | None:
        text = json.dumps(request.body)
        found = [t for t in self.scripts if marker(t) in text]
        return found[0] if len(found) == 1 else None

    def __call__(self, request: RecordedRequest) -> Answer:
        if request.model in self.weak_models:  # Aider's summaries of a long chat
            return Turn(text="A short summary of the chat so far.")
        task = self.task_of(request)
        if task is None:
            return Turn(text="(a request of no known task)")
        with self._lock:
            n = self.asked[task]
            self.asked[task] += 1
        steps = self.scripts[task]
        step = steps[min(n, len(steps) - 1)]
        return step(request) if callable(step) else step


# --- each CLI's own tools, as its model would call them ------------------------------------


def _in_workdir(request: RecordedRequest, path: str) -> str:
    assert request.workdir, "the CLI did not tell the model its working directory"
    return str(Path(request.workdir) / path)


@dataclass(frozen=True)
class Moves:
    """How a model speaking to one CLI writes a file, edits one line, and says it is done."""

    cli: str

    def write(self, path: str, content: str) -> Step:
        if self.cli == "codex":
            return Turn(tool_calls=(ToolCall("apply_patch", apply_patch_add(path, content)),))
        if self.cli == "aider":
            return Turn(text=f"I will create {path}.\n\n" + search_replace(path, "", content))
        name = "Write" if self.cli == "claude" else "write_file"

        def step(request: RecordedRequest) -> Answer:
            args = {"file_path": _in_workdir(request, path), "content": content}
            return Turn(text=f"Writing {path}.", tool_calls=(ToolCall(name, args),))

        return step

    def edit(self, path: str, old: str, new: str) -> list[Step]:
        """Claude Code refuses to edit a file its session has not read: it reads first."""
        if self.cli == "codex":
            return [Turn(tool_calls=(ToolCall("apply_patch", apply_patch_update(path, old, new)),))]
        if self.cli == "aider":
            return [
                Turn(text=f"Changing {path}.\n\n" + search_replace(path, old + "\n", new + "\n"))
            ]

        def read(request: RecordedRequest) -> Answer:
            args = {"file_path": _in_workdir(request, path)}
            return Turn(text=f"Reading {path}.", tool_calls=(ToolCall("Read", args),))

        def step(request: RecordedRequest) -> Answer:
            args: dict[str, str] = {"file_path": _in_workdir(request, path)}
            args |= {"old_string": old, "new_string": new}
            if self.cli == "claude":
                return Turn(tool_calls=(ToolCall("Edit", args),))
            args["instruction"] = "Change the line."
            return Turn(tool_calls=(ToolCall("replace", args),))

        return [read, step] if self.cli == "claude" else [step]

    def done(self, text: str) -> Step:
        return Turn(text=text)

    def task(self, *moves: Step | list[Step], said: str) -> list[Step]:
        """A task's whole conversation: the moves, then its closing words (Aider: one reply)."""
        steps = [s for m in moves for s in (m if isinstance(m, list) else [m])]
        return steps if self.cli == "aider" else [*steps, self.done(said)]


def search_replace(path: str, old: str, new: str) -> str:
    """An edit in Aider's "diff" format (its default for gpt-4o): empty SEARCH creates."""
    return f"{path}\n```\n<<<<<<< SEARCH\n{old}=======\n{new}>>>>>>> REPLACE\n```\n"


# --- a project, a run, and what it left ----------------------------------------------------


def sample_repo(root: Path, maestro_toml: str = "") -> Path:
    """A small repository with a greeting, and a maestro.toml only when one is given."""
    repo = root / "project"
    repo.mkdir(parents=True)
    (repo / "README.md").write_text("# project\n")
    (repo / "greet.py").write_text(GREET)
    if maestro_toml:
        (repo / "maestro.toml").write_text(maestro_toml)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    return repo


def plan_toml(tasks: Sequence[Mapping[str, Any]]) -> str:
    """A plan whose every prompt carries its task's marker."""
    out = []
    for t in tasks:
        out.append("[[tasks]]")
        for key, value in t.items():
            out.append(f"{key} = {json.dumps(value)}")
        out.append(f"prompt = {json.dumps(t['title'] + '. ' + marker(t['id']))}")
        out.append("")
    return "\n".join(out)


@dataclass
class Finished:
    """What a run left: its output, its events folded, the repository, the database."""

    run: CliRun
    repo: Path
    db: Path
    server: ModelServer
    events: list[Event] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        with sqlite3.connect(self.db) as con:
            (run_id,) = con.execute("select run_id from runs").fetchone()
        return str(run_id)

    @property
    def state(self) -> RunState:
        return fold(self.events)

    def of(self, kind: str, task: str | None = None) -> list[Any]:
        return [e for e in self.events if e.type == kind and (task is None or e.task_id == task)]

    def merged(self, path: str) -> str | None:
        shown = subprocess.run(
            ["git", "show", f"maestro/{self.run_id}:{path}"],
            cwd=self.repo,
            capture_output=True,
            text=True,
        )
        return shown.stdout if shown.returncode == 0 else None

    def trailers(self, task: str) -> dict[str, str]:
        log = git(self.repo, "log", "--format=%B%x00", f"maestro-task/{self.run_id}/{task}", "-1")
        pairs = (line.partition(": ") for line in log.splitlines() if line.startswith("Maestro-"))
        return {key: value for key, _, value in pairs}

    def llm_calls(self) -> list[tuple[str, str, int, int, float | None]]:
        with sqlite3.connect(self.db) as con:
            rows = con.execute(
                "select task_id, model, tokens_in, tokens_out, cost_usd from llm_calls order by seq"
            ).fetchall()
        return [tuple(r) for r in rows]

    def explain(self, task: str | None = None) -> str:
        """The run's output's end; with `task`, first that task's own events, every one."""
        own = ""
        if task is not None:
            lines = (f"  {e.ts:7.1f}s {e.type} {e}" for e in self.events if e.task_id == task)
            own = f"{task}'s events:\n" + "\n".join(line[:300] for line in lines) + "\n"
        output = f"{self.run.stdout[-6000:]}\n{self.run.stderr[-3000:]}"
        return f"exit {self.run.exit_code}\n{own}{output}"


def run_maestro(
    root: Path,
    netns: NetNamespace,
    server: ModelServer,
    repo: Path,
    plan: str,
    user_env: Mapping[str, str],
    timeout_s: float = 180,
) -> Finished:
    """`maestro-tui run --headless` in the namespace, as the CLI's user would start it."""
    home, tmp = root / "home", root / "tmp"
    home.mkdir(exist_ok=True)  # a test may have put files in it first
    tmp.mkdir()
    (root / "plan.toml").write_text(plan)
    db = root / "runs.db"
    argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(root / "plan.toml")]
    argv += ["--repo", str(repo), "--headless", "--db", str(db), "--yes"]
    env = base_env(home, tmp, user_env)
    done = run_in_netns(argv, netns, cwd=repo, env=env, timeout_s=timeout_s)
    finished = Finished(done, repo, db, server)
    if db.exists():
        finished.events = read_events(db)
    return finished


def read_events(db: Path) -> list[Event]:
    """Every event in the database, in order (one run per database here)."""
    with sqlite3.connect(db) as con:
        rows = con.execute("select run_id, seq, ts, type, data from events order by seq")
        return [decode_event(*row) for row in rows.fetchall()]


def program(name: str) -> str:
    return str(AGENTS / "bin" / name)
