"""Gemini CLI's `-o stream-json` stream, line by line.

Lines: `init` (session id, model), `message` (the user prompt, then the assistant's text in
`delta` pieces), `tool_use` and `tool_result` (status "success"/"error"; a refused path is an
error of type `invalid_tool_params`, "Path not in workspace…"), and `result` last (status,
an error message, and token counts per model; no cost, so it is priced from our table).

Its own retries (429, 5xx) show only on stderr ("Attempt 1 failed with status 429…"), and an
API error ends it with the HTTP status modulo 256 as exit code. A model endpoint it cannot
connect to (refused, no route, no such host) is "Attempt N failed. Retrying with backoff...
Error: exception TypeError: fetch failed sending request" and a Node stack, ten times over
~200 s: from the second such try, the run is hopeless (CliStream.cannot_connect).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter, WorkerJob
from maestro_tui.agents.dialect import Dialect
from maestro_tui.agents.stream import CliStream, Pricer, RunOutcome, brief, is_limit, json_object

_RETRYING = re.compile(r"Attempt (\d+) failed with status (\d+)\. Retrying")
_FAILED = re.compile(r"Attempt (\d+) failed\. Retrying with backoff\.\.\. (.*)")
_NOT_CONNECTED = "fetch failed"  # Node's fetch: refused, no route, no such host, reset
_STACK_FRAME = re.compile(r"^\s+at ")  # of the error printed just before
_GAVE_UP = "Error when talking to Gemini API"  # its retries are over; the result says why
_WRITES = {"write_file": "added", "replace": "modified", "edit": "modified"}
# Printed on stderr on every run: nothing a person needs to read again.
_NOISE = ("YOLO mode is enabled", "Ripgrep is not available", "256-color support", "[STARTUP] ")


class GeminiStream(CliStream):
    cli = "Gemini CLI"
    lost_session = ("Error resuming session",)

    def __init__(self, *args: Any, resumed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resumed = resumed
        self._text: list[str] = []  # assistant text since the last tool call
        self._tools: dict[str, tuple[str, dict[str, Any]]] = {}
        self._saw_result = False
        self._in_stack = False  # the lines of a stack follow the error it printed

    def on_stdout(self, line: str) -> bool:
        data = json_object(line)
        if data is None:
            return False
        kind = data.get("type")
        if kind == "init":
            self.found_session(str(data.get("session_id") or ""), self._resumed)
            self.outcome.model = str(data.get("model") or self.outcome.model)
            self.report.output(
                f"Gemini CLI on {self.outcome.model}, session {self.outcome.session}", "stderr"
            )
        elif kind == "message":
            if data.get("role") == "assistant":
                self._text.append(str(data.get("content") or ""))
        elif kind == "tool_use":
            self._flush_text()
            params = data.get("parameters") or {}
            self._tools[str(data.get("tool_id"))] = (str(data.get("tool_name")), params)
        elif kind == "tool_result":
            self._tool_result(data)
        elif kind == "result":
            self._result(data)
        else:
            return False
        return True

    def on_stderr(self, line: str) -> bool:
        if self._in_stack and _STACK_FRAME.match(line):
            return True  # said in one line already
        self._in_stack = False
        if found := _RETRYING.search(line):
            self._in_stack = True
            status = int(found.group(2))
            reason = f"Gemini API answered HTTP {status}: Gemini CLI retries (attempt {found[1]})"
            if status == 429:
                self.report.waiting(reason, 5.0)
            else:
                self.report.output(reason, "stderr")
            return True
        if found := _FAILED.search(line):
            self._in_stack = True
            if _NOT_CONNECTED in found.group(2):
                self.cannot_connect(int(found.group(1)))  # said once, when it is given up
            else:
                error = found.group(2).removeprefix("Error: ")
                self.report.output(f"Gemini CLI retries (attempt {found[1]}): {error}", "stderr")
            return True
        if line.startswith(_GAVE_UP):
            self._in_stack = True
            return False  # where its full report is; the result line says why
        return any(noise in line for noise in _NOISE)

    def _tool_result(self, data: dict[str, Any]) -> None:
        name, params = self._tools.pop(str(data.get("tool_id")), ("tool", {}))
        ok = data.get("status") == "success"
        error = data.get("error") or {}
        message = str(error.get("message") or data.get("output") or "") if not ok else ""
        shown = dict(params)
        if isinstance(shown.get("file_path"), str):
            shown["file_path"] = self.relative(shown["file_path"])
        self.report.tool(name, brief(shown), ok=ok, error=message)
        if not ok and (
            error.get("type") == "invalid_tool_params" and "not in workspace" in message.lower()
        ):
            self.refuse(f"{name} {shown.get('file_path', '')}: {message}")
        if ok and name in _WRITES and isinstance(shown.get("file_path"), str):
            self.report.file_changed(shown["file_path"], _WRITES[name])

    def _result(self, data: dict[str, Any]) -> None:
        self._saw_result = True
        final = "".join(self._text).strip()
        self._flush_text()
        stats = data.get("stats") or {}
        models = stats.get("models") or {}
        for model, counts in models.items():
            tokens_in = int(counts.get("input_tokens") or 0)
            tokens_out = int(counts.get("output_tokens") or 0)
            if tokens_in or tokens_out:
                self.outcome.turns += 1
                self.usage(model, tokens_in, tokens_out, None)
        if data.get("status") == "error":
            message = str((data.get("error") or {}).get("message") or "an error")
            self.report.output(f"Gemini CLI: {message}", "stderr")
            if is_limit(message) or "exhausted" in message:
                self.outcome.limit = f"Gemini CLI: {message}"
            else:
                self.outcome.error = f"Gemini CLI failed: {message}"
        else:
            self.outcome.final = final

    def _flush_text(self) -> None:
        text = "".join(self._text).strip()
        if text:
            self.say(text)
        self._text = []

    def finish(self, exit_code: int | None) -> RunOutcome:
        self._flush_text()
        if exit_code is not None and not self._saw_result and not self.outcome.error:
            # Its exit code is the HTTP status modulo 256 (401 -> 145, 429 -> 173).
            self.outcome.error = f"Gemini CLI ended without a result (exit code {exit_code})"
        return super().finish(exit_code)


# What the CLI reads from its own home and a user may have there: their login.
_CREDENTIALS = ("oauth_creds.json", "google_accounts.json", "mcp-oauth-tokens.json")


class GeminiDialect(Dialect):
    """Gemini CLI: `-m`, `--resume SESSION` (sessions are kept per working directory, in its
    home), stream-json on stdout.

    It gets its own home (GEMINI_CLI_HOME, in the task's agent folder) holding a copy of the
    user's settings with what a headless run needs added, and links to their login files: the
    user's own files are read, never written. Needed because, with GOOGLE_GEMINI_BASE_URL set,
    this version picks an auth method it then rejects ("Invalid auth method selected", exit
    41) unless the settings name one.
    """

    name = "gemini"
    cli = "Gemini CLI"
    model_flags = ("-m", "--model")
    resumes = True
    model_variable = "GEMINI_MODEL"
    prompt_tokens = 12_000

    def with_session(self, argv: list[str], prompt_at: int, session: str) -> list[str]:
        return [*argv, "--resume", session]

    def prepare(self, job: WorkerJob, env: Mapping[str, str], agent_dir: Path) -> dict[str, str]:
        if env.get("GEMINI_CLI_HOME"):
            return {}  # the user chose its home
        user = Path(os.path.expanduser(env.get("HOME", "~"))) / ".gemini"
        own = agent_dir / "gemini-home"
        (own / ".gemini").mkdir(parents=True, exist_ok=True)
        try:
            settings = json.loads((user / "settings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            settings = {}
        if not isinstance(settings, dict):
            settings = {}
        auth = settings.setdefault("security", {}).setdefault("auth", {})
        if env.get("GEMINI_API_KEY") and not auth.get("selectedType"):
            auth["selectedType"] = "gemini-api-key"
        settings.setdefault("telemetry", {}).setdefault("enabled", False)
        settings.setdefault("privacy", {}).setdefault("usageStatisticsEnabled", False)
        general = settings.setdefault("general", {})
        general.setdefault("disableAutoUpdate", True)
        general.setdefault("disableUpdateNag", True)
        (own / ".gemini" / "settings.json").write_text(json.dumps(settings, indent=2))
        for name in _CREDENTIALS:
            link = own / ".gemini" / name
            if (user / name).exists() and not link.exists():
                link.symlink_to(user / name)
        # Without it --yolo is turned down in a folder it has not been told to trust.
        return {"GEMINI_CLI_HOME": str(own), "GEMINI_CLI_TRUST_WORKSPACE": "true"}

    def stream(self, report: Reporter, price: Pricer, model: str, resumed: bool,
               agent_dir: Path) -> CliStream:  # fmt: skip
        return GeminiStream(report, price, model, resumed=resumed)
