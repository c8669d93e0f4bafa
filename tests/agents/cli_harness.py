"""Run a real coding CLI (or any program, e.g. `maestro-tui run`) offline against a model server.

Each run gets its own HOME and TMPDIR with the config files its CLI needs, a closed stdin, the
base-URL/key/telemetry variables, and the CLI's headless flags; it runs inside a loopback-only
network namespace shared with the server (see netns.py), so any call elsewhere fails at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tests.agents.netns import NetNamespace
from tests.agents.servers.anthropic import anthropic_server
from tests.agents.servers.core import ModelServer, Step
from tests.agents.servers.gemini import gemini_server
from tests.agents.servers.openai_chat import chat_server
from tests.agents.servers.openai_responses import responses_server

REPO = Path(__file__).resolve().parents[2]
AGENTS = REPO / ".agents"
INSTALL_HINT = "run `make agent-clis` (scripts/install-agent-clis)"


@dataclass(frozen=True)
class CliRun:
    """What a run printed and how it ended (exit_code None: we killed it on timeout)."""

    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool

    def json_lines(self) -> list[dict[str, Any]]:
        """The stdout lines that are JSON objects, in order (CLIs mix in the odd plain line)."""
        found = []
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except ValueError:
                    continue
        return found

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.json_lines() if line.get("type") == kind]


def run_in_netns(
    argv: Sequence[str],
    netns: NetNamespace,
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float = 60.0,
    kill_when: Callable[[], bool] | None = None,
) -> CliRun:
    """Run `argv` inside `netns` with stdin closed; kill its whole process group on timeout or
    as soon as `kill_when()` (polled every 0.1 s) says so."""
    started = time.monotonic()
    proc = subprocess.Popen(
        netns.command(list(argv)),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out = err = b""
    killed = False
    while True:
        left = timeout_s - (time.monotonic() - started)
        try:
            # Each call keeps what earlier, timed-out calls read.
            out, err = proc.communicate(timeout=max(0.0, min(left, 0.1 if kill_when else left)))
            break
        except subprocess.TimeoutExpired:
            if left <= 0 or (kill_when is not None and kill_when()):
                killed = True
                break
    if killed:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                out, err = proc.communicate(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
    return CliRun(
        argv=list(argv),
        exit_code=None if killed else proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        duration_s=time.monotonic() - started,
        timed_out=killed,
    )


def base_env(home: Path, tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: our own HOME and TMPDIR, nothing of the caller's but PATH."""
    path = os.pathsep.join([str(AGENTS / "bin"), os.environ.get("PATH", os.defpath)])
    env = {"PATH": path, "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8", "USER": "lab"}
    env.update(extra or {})
    return env


@dataclass
class AgentCli:
    """One CLI: how to serve it, configure it and call it headless."""

    name: str
    default_model: str | None
    key: str = "lab-test-key-0001"

    @property
    def program(self) -> Path:
        return AGENTS / "bin" / self.name

    def missing_reason(self) -> str | None:
        if not os.access(self.program, os.X_OK):
            return f"{self.name} is not installed in .agents/: {INSTALL_HINT}"
        return None

    def server(self, script: Iterable[Step] = ()) -> ModelServer:
        raise NotImplementedError

    def prepare(self, home: Path, server: ModelServer) -> dict[str, str]:
        """Write the config files the CLI needs under `home`; return its variables."""
        return {}

    def argv(
        self, prompt: str, model: str | None, server: ModelServer, extra: Sequence[str] = ()
    ) -> list[str]:
        raise NotImplementedError


class ClaudeCode(AgentCli):
    def server(self, script: Iterable[Step] = ()) -> ModelServer:
        return anthropic_server(script)

    def prepare(self, home: Path, server: ModelServer) -> dict[str, str]:
        return {
            "ANTHROPIC_API_KEY": self.key,
            "ANTHROPIC_BASE_URL": server.url,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_AUTOUPDATER": "1",
        }

    def argv(
        self, prompt: str, model: str | None, server: ModelServer, extra: Sequence[str] = ()
    ) -> list[str]:
        argv = [str(self.program), "-p", prompt, "--output-format", "stream-json", "--verbose"]
        argv += ["--permission-mode", "acceptEdits"]
        return argv + (["--model", model] if model else []) + list(extra)


class Codex(AgentCli):
    def server(self, script: Iterable[Step] = ()) -> ModelServer:
        return responses_server(script)

    def prepare(self, home: Path, server: ModelServer) -> dict[str, str]:
        codex_home = home / ".codex"
        codex_home.mkdir(parents=True, exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model_provider = "lab"\n'
            "check_for_update_on_startup = false\n"
            "[model_providers.lab]\n"
            'name = "lab"\n'
            f'base_url = "{server.url}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "LAB_API_KEY"\n'
            "[analytics]\nenabled = false\n"
            "[feedback]\nenabled = false\n"
        )
        return {"CODEX_HOME": str(codex_home), "LAB_API_KEY": self.key}

    def argv(
        self, prompt: str, model: str | None, server: ModelServer, extra: Sequence[str] = ()
    ) -> list[str]:
        argv = [str(self.program), "exec", "--json", "-s", "workspace-write"]
        argv += ["--skip-git-repo-check", "--disable", "plugins", "--disable", "remote_plugin"]
        return argv + (["-m", model] if model else []) + list(extra) + [prompt]


class GeminiCli(AgentCli):
    def server(self, script: Iterable[Step] = ()) -> ModelServer:
        return gemini_server(script)

    def prepare(self, home: Path, server: ModelServer) -> dict[str, str]:
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "telemetry": {"enabled": False},
            "privacy": {"usageStatisticsEnabled": False},
            "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
        }
        (home / ".gemini").mkdir(parents=True, exist_ok=True)
        (home / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=2))
        return {
            "GEMINI_API_KEY": self.key,
            "GOOGLE_GEMINI_BASE_URL": server.url,
            "GEMINI_CLI_TRUST_WORKSPACE": "true",
        }

    def argv(
        self, prompt: str, model: str | None, server: ModelServer, extra: Sequence[str] = ()
    ) -> list[str]:
        argv = [str(self.program), "-p", prompt, "-o", "stream-json", "--yolo"]
        return argv + (["-m", model] if model else []) + list(extra)


class Aider(AgentCli):
    # Files to add to the chat are passed as `extra`, after the flags.
    def server(self, script: Iterable[Step] = ()) -> ModelServer:
        return chat_server(script)

    def prepare(self, home: Path, server: ModelServer) -> dict[str, str]:
        # Without this file Aider fetches litellm's price list from the internet at start.
        shipped = next((AGENTS / "aider" / "lib").glob("python3*/site-packages/litellm"))
        caches = home / ".aider" / "caches"
        caches.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            shipped / "model_prices_and_context_window_backup.json",
            caches / "model_prices_and_context_window.json",
        )
        return {"OPENAI_API_KEY": self.key}

    def argv(
        self, prompt: str, model: str | None, server: ModelServer, extra: Sequence[str] = ()
    ) -> list[str]:
        argv = [str(self.program), "--message", prompt, "--model", model or "openai/gpt-4o"]
        argv += ["--openai-api-base", f"{server.url}/v1", "--yes-always", "--no-auto-commits"]
        argv += ["--no-check-update", "--no-show-model-warnings", "--analytics-disable"]
        argv += ["--no-gitignore", "--no-pretty", "--no-stream", "--edit-format", "whole"]
        return argv + list(extra)


CLIS: dict[str, AgentCli] = {
    "claude": ClaudeCode("claude", None),
    # Codex offers its apply_patch tool only for models in its built-in catalogue.
    "codex": Codex("codex", "gpt-5.5"),
    # Without -m, Gemini CLI first asks a routing model for a JSON complexity score.
    "gemini": GeminiCli("gemini", "gemini-2.5-pro"),
    "aider": Aider("aider", "openai/gpt-4o"),
}


@dataclass
class Lab:
    """A CLI, its scripted server inside a fresh namespace, and a home for each run."""

    cli: AgentCli
    netns: NetNamespace
    server: ModelServer
    root: Path
    runs: list[CliRun] = field(default_factory=list)
    # How many requests the server had seen when each run ended, to tell the runs apart.
    marks: list[int] = field(default_factory=list)

    def run(
        self,
        prompt: str,
        cwd: Path,
        *,
        model: str | None = None,
        extra: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        home: Path | None = None,
        stalled_for_s: float | None = None,
    ) -> CliRun:
        """Run the CLI once; `home` reuses an earlier run's HOME (to resume a session);
        `stalled_for_s` kills it once it has waited that long on a stalled request."""
        if home is None:
            home = self.root / f"run{len(self.runs) + 1}" / "home"
        tmp = home.parent / "tmp"
        home.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(parents=True, exist_ok=True)
        variables = {**self.cli.prepare(home, self.server), **(env or {})}
        argv = self.cli.argv(prompt, model or self.cli.default_model, self.server, extra)
        kill_when = None
        if stalled_for_s is not None:
            kill_when = partial(self.server.stalled_since, stalled_for_s)
        result = run_in_netns(
            argv,
            self.netns,
            cwd=cwd,
            env=base_env(home, tmp, variables),
            timeout_s=timeout_s,
            kill_when=kill_when,
        )
        self.runs.append(result)
        self.marks.append(len(self.server.requests))
        return result

    def last_home(self) -> Path:
        return self.root / f"run{len(self.runs)}" / "home"
