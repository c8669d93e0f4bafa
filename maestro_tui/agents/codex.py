"""Codex's `exec --json` stream, line by line.

Lines: `thread.started` (the thread id: its session), `item.started`/`item.completed` with
items `agent_message`, `command_execution`, `file_change` and `error` (a warning such as an
unknown model), top-level `error` (a reconnect, or the final error), and `turn.completed`
(usage for the whole run) or `turn.failed`. No model name and no cost: the model is the one
we passed with `-m` (or read from its config), priced from our table.

Refusals leave no item: a rejected patch shows only on stderr (`… error=patch rejected: …`),
and a command the sandbox stops fails with "Read-only file system".
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter, WorkerJob
from maestro_tui.agents.dialect import Dialect, insert_before
from maestro_tui.agents.stream import CliStream, Pricer, RunOutcome, is_limit, json_object

_REJECTED = re.compile(r"error=(patch rejected[^\n]*|.*rejected by user approval settings.*)")
_SANDBOXED = "Read-only file system"
DEFAULT_MODEL = "codex:default"  # no -m and none in its config: the stream never names it


class CodexStream(CliStream):
    cli = "Codex"
    lost_session = ("no rollout found for thread id",)

    def __init__(self, *args: Any, resumed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resumed = resumed
        self._saw_end = False

    def on_stdout(self, line: str) -> bool:
        data = json_object(line)
        if data is None:
            return False
        kind = data.get("type")
        if kind == "thread.started":
            self.found_session(str(data.get("thread_id") or ""), self._resumed)
            # Its stream never names the model: the one we asked for, or its default's label
            # (the meters and the Maestro-Model trailer then agree on what is not known).
            self.outcome.model = self.outcome.model or DEFAULT_MODEL
            self.report.output(
                f"Codex on {self.outcome.model}, thread {self.outcome.session}", "stderr"
            )
        elif kind == "turn.started":
            pass
        elif kind == "item.started":
            pass  # shown once completed
        elif kind == "item.completed":
            self._item(data.get("item") or {})
        elif kind == "error":
            self._error(str(data.get("message") or ""))
        elif kind == "turn.completed":
            self._saw_end = True
            usage = data.get("usage") or {}
            tokens_in = int(usage.get("input_tokens") or 0)
            tokens_out = int(usage.get("output_tokens") or 0)
            if self._resumed:  # the thread's whole usage: this run's is what came since
                before_in, before_out = usage_before_this_run(self.env, self.outcome.session)
                tokens_in, tokens_out = tokens_in - before_in, tokens_out - before_out
            self.outcome.turns += 1
            self.usage(self.outcome.model or DEFAULT_MODEL, tokens_in, tokens_out, None)
        elif kind == "turn.failed":
            self._saw_end = True
            message = str((data.get("error") or {}).get("message") or "the turn failed")
            if is_limit(message):
                self.outcome.limit = f"Codex: {message}"
            else:
                self.outcome.error = f"Codex failed: {message}"
        else:
            return False
        return True

    def on_stderr(self, line: str) -> bool:
        found = _REJECTED.search(line)
        if found:
            self.refuse(found.group(1))
            return False
        # Printed on every run, stdin closed or not.
        return line.strip() == "Reading additional input from stdin..."

    def _item(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "agent_message":
            text = str(item.get("text") or "")
            self.say(text)
            self.outcome.final = text
        elif kind == "command_execution":
            code = item.get("exit_code")
            output = str(item.get("aggregated_output") or "")
            ok = item.get("status") == "completed" and code == 0
            error = "" if ok else f"exit code {code}: {output.strip()[-300:]}"
            self.report.tool("shell", str(item.get("command") or ""), ok=ok, error=error)
            if not ok and _SANDBOXED in output:
                self.refuse(f"shell {item.get('command')}: {_SANDBOXED} (the sandbox)")
        elif kind == "file_change":
            ok = item.get("status") == "completed"
            for change in item.get("changes") or []:
                path = self.relative(str(change.get("path") or ""))
                what = {"add": "added", "delete": "deleted"}.get(change.get("kind"), "modified")
                error = "" if ok else "the patch did not apply"
                self.report.tool("apply_patch", f"{what} {path}", ok=ok, error=error)
                if ok:
                    self.report.file_changed(path, what)
        elif kind == "error":
            self.report.output(f"Codex: {item.get('message', '')}", "stderr")
        elif kind in ("reasoning", "todo_list", "web_search", "mcp_tool_call"):
            self.report.output(f"({kind}) {item.get('text', '')}".rstrip(), "llm")

    def _error(self, message: str) -> None:
        if message.startswith("Reconnecting...") and is_limit(message):
            self.report.waiting(f"Codex: {message}", 0.0)
        else:
            self.report.output(f"Codex: {message}", "stderr")

    def finish(self, exit_code: int | None) -> RunOutcome:
        if exit_code == 0 and not self._saw_end and not self.outcome.error:
            self.outcome.error = "Codex ended without finishing its turn"
        return super().finish(exit_code)


def usage_before_this_run(env: Mapping[str, str], thread: str) -> tuple[int, int]:
    """(tokens in, out) a resumed thread had used before its latest run, from its rollout in
    `$CODEX_HOME/sessions/Y/M/D/rollout-…-THREAD.jsonl`: `exec … resume` reports the thread's
    total at `turn.completed`, not the run's (measured: 19,352 then 39,085 for two runs of
    ~19.7k each). (0, 0) when the rollout cannot be read: then the run counts it all."""
    home = Path(env.get("CODEX_HOME") or Path(env.get("HOME", "~")) / ".codex").expanduser()
    if not thread or not re.fullmatch(r"[\w-]+", thread):
        return 0, 0
    found = sorted((home / "sessions").glob(f"*/*/*/rollout-*-{thread}.jsonl"))
    before = (0, 0)
    total = (0, 0)
    try:
        with found[-1].open(encoding="utf-8") as lines:
            for line in lines:
                payload = (json_object(line) or {}).get("payload") or {}
                if payload.get("type") == "task_started":  # a run began: all before it is old
                    before = total
                elif payload.get("type") == "token_count":
                    usage = (payload.get("info") or {}).get("total_token_usage") or {}
                    total = (
                        int(usage.get("input_tokens") or 0),
                        int(usage.get("output_tokens") or 0),
                    )
    except (OSError, IndexError, ValueError, AttributeError):
        return 0, 0
    return before


# Per run, never written to the user's config: no analytics or feedback upload (without it,
# a ~5 s stall at exit), no update check; and the sandbox confined to the worktree and the
# task's own TMPDIR (workspace-write otherwise opens all of /tmp, where parallel tasks could
# write into each other).
CODEX_OVERRIDES = (
    "analytics.enabled=false",
    "feedback.enabled=false",
    "check_for_update_on_startup=false",
    "sandbox_workspace_write.exclude_slash_tmp=true",
)
PROVIDER = "maestro-openai"


class CodexDialect(Dialect):
    """Codex: `-m`, `exec … resume THREAD PROMPT` (same CODEX_HOME), JSON lines on stdout.
    With OPENAI_BASE_URL set (a gateway, a local server), a provider pointing there."""

    name = "codex"
    cli = "Codex"
    model_flags = ("-m", "--model")
    resumes = True
    prompt_tokens = 10_000

    def with_model(self, argv: list[str], prompt_at: int, model: str) -> list[str]:
        if not model or any(a in self.model_flags for a in argv):
            return argv
        return insert_before(argv, prompt_at, "-m", model)

    def with_session(self, argv: list[str], prompt_at: int, session: str) -> list[str]:
        return insert_before(argv, prompt_at, "resume", session)

    def extra_args(self, argv: list[str], prompt_at: int, job: WorkerJob, env: Mapping[str, str],
                   agent_dir: Path) -> list[str]:  # fmt: skip
        extra: list[str] = []
        for override in CODEX_OVERRIDES:
            extra += ["-c", override]
        base_url = env.get("OPENAI_BASE_URL", "").strip()
        if base_url and not any("model_provider=" in a for a in argv):
            table = (
                f'{{name="{PROVIDER}",base_url={json.dumps(base_url)},'
                'env_key="OPENAI_API_KEY",wire_api="responses"}'
            )
            extra += ["-c", f'model_provider="{PROVIDER}"']
            extra += ["-c", f"model_providers.{PROVIDER}={table}"]
        return insert_before(argv, prompt_at, *extra)

    def configured_model(self, env: Mapping[str, str]) -> str:
        home = env.get("CODEX_HOME") or os.path.join(env.get("HOME", "~"), ".codex")
        try:
            with open(os.path.join(os.path.expanduser(home), "config.toml"), "rb") as f:
                return str(tomllib.load(f).get("model") or "")
        except (OSError, tomllib.TOMLDecodeError):
            return ""

    def stream(self, report: Reporter, price: Pricer, model: str, resumed: bool,
               agent_dir: Path) -> CliStream:  # fmt: skip
        return CodexStream(report, price, model, resumed=resumed)
