"""Aider's plain-text output, line by line, and its usage log.

Aider has no machine-readable output and no session id. What it prints (see
tests/agents/transcripts/README.md): a banner ("Main model: NAME with FORMAT edit format"),
the model's reply, `Tokens: 1.2k sent, 56 received. Cost: $0.0036 message, …` after each
request, `Applied edit to PATH` per file written. Errors are printed and it still exits 0:
`litellm.AuthenticationError…`, `litellm.RateLimitError…` with "Retrying in N seconds…", or a
failed `git add` of a file outside the repository (then none of the reply's edits apply).

Token counts printed as "1.2k" are rounded, so usage comes from its analytics log instead
(`--analytics-log FILE`, written locally, sent nowhere with `--no-analytics`): one
`message_send` entry per request with exact counts and cost. The printed line is the fallback.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter, WorkerJob
from maestro_tui.agents.dialect import Dialect, insert_before
from maestro_tui.agents.stream import CliStream, Pricer, RunOutcome, is_limit

_MODEL = re.compile(r"^Main model: (\S+)")
_TOKENS = re.compile(r"^Tokens: ([\d.]+k?) sent, .*?([\d.]+k?) received\.(.*)$")
_RETRY = re.compile(r"^Retrying in ([\d.]+) seconds")
_APPLIED = re.compile(r"^Applied edit to (.+)$")
_ERROR = re.compile(r"^litellm\.(\w+):")
_GIT_FAILED = "Cmd('git') failed"
_CRASH = re.compile(r"^# Uncaught (\w+) in ")  # then a traceback, ending "TYPE: message"
_BANNER_END = ("https://aider.chat/HISTORY.html", "Restored previous conversation history.")


def _count(text: str) -> int:
    return round(float(text[:-1]) * 1000) if text.endswith("k") else int(float(text))


class AiderStream(CliStream):
    cli = "Aider"

    def __init__(self, *args: Any, usage_log: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._log = usage_log
        self._log_read = 0  # entries of the log already metered
        self._printed: list[tuple[int, int, bool]] = []  # (in, out, priced) not yet metered
        self._in_reply = False
        self._reply: list[str] = []
        self._error = ""  # the last error it printed, until a reply shows it went on
        self._in_error = False
        self._wrapped = False
        self._sticky = ""  # an error it does not recover from (edits not applied, a crash)
        self._crash = ""  # the exception type it reported uncaught, until its message

    def on_stdout(self, line: str) -> bool:
        self._drain_log()
        if found := _MODEL.match(line):
            self.outcome.model = found.group(1)
        elif line.startswith(_BANNER_END):
            self._in_reply = True
        elif found := _TOKENS.match(line):
            self._tokens(found)
        elif found := _APPLIED.match(line):
            path = found.group(1).strip()
            self.report.tool("edit", path)
            self.report.file_changed(path, "modified")
        elif found := _RETRY.match(line):
            self.report.waiting(f"Aider: {self._error or 'API error'}", float(found.group(1)))
            self._in_error = False
        elif _ERROR.match(line):
            self._error, self._in_error, self._wrapped = line.strip(), True, False
        elif found := _CRASH.match(line):
            self._crash = found.group(1)
            self._sticky = f"Aider crashed: uncaught {self._crash}"
        elif self._crash and line.startswith(f"{self._crash}: "):
            self._sticky = f"Aider crashed: {line.strip()}"
            self._crash = ""
        elif line.startswith(_GIT_FAILED):
            self._sticky = f"Aider could not add a file it wrote; none of its edits applied: {line}"
        elif self._in_error:
            # Its messages wrap at ~80 columns: the next line still belongs to the error.
            if line.strip() and not self._wrapped and not line.startswith("The API"):
                self._error += " " + line.strip()
                self._wrapped = True
        elif self._in_reply:
            self._reply.append(line)
            self.report.output(line, "llm")
            return True
        return False

    def _tokens(self, found: re.Match[str]) -> None:
        self._in_reply, self._in_error = True, False  # it may ask the model again
        self._error = ""  # it got an answer: what it printed before was retried away
        self.outcome.turns += 1
        reply = _prose("\n".join(self._reply))
        if reply:
            self.outcome.final = reply
        self._reply = []
        priced = "Cost:" in found.group(3)
        entry = (_count(found.group(1)), _count(found.group(2)), priced)
        if self._log is None:
            self.usage(self.outcome.model, entry[0], entry[1], None)
        else:
            self._printed.append(entry)

    def _drain_log(self) -> None:
        """Meter the requests its usage log has recorded since last time."""
        if self._log is None or not self._printed:
            return
        try:
            lines = self._log.read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        sends = [e for e in map(_entry, lines) if e.get("event") == "message_send"]
        for entry in sends[self._log_read :]:
            if not self._printed:
                break
            _in, _out, priced = self._printed.pop(0)
            props = entry.get("properties") or {}
            tokens_in = int(props.get("prompt_tokens") or 0)
            tokens_out = int(props.get("completion_tokens") or 0)
            cost = float(props.get("cost") or 0) if priced else None
            self.usage(self.outcome.model, tokens_in, tokens_out, cost)
            self._log_read += 1

    def finish(self, exit_code: int | None) -> RunOutcome:
        self._drain_log()
        for tokens_in, tokens_out, _priced in self._printed:  # no log entry: the printed counts
            self.usage(self.outcome.model, tokens_in, tokens_out, None)
        self._printed = []
        if self._reply and not self.outcome.final:
            self.outcome.final = _prose("\n".join(self._reply))
        if self._sticky:
            self.outcome.error = self._sticky
        elif self._error:
            if is_limit(self._error) or "RateLimitError" in self._error:
                self.outcome.limit = f"Aider: {self._error}"
            else:
                self.outcome.error = f"Aider failed: {self._error}"
        elif exit_code is not None and not self.outcome.turns and not self.outcome.error:
            self.outcome.error = "Aider got no answer from the model"
        return super().finish(exit_code)


def _entry(line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _prose(reply: str) -> str:
    """A reply without its fenced file blocks and the file names before them."""
    kept: list[str] = []
    fenced = False
    for line in reply.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            if fenced:
                while kept and not kept[-1].strip():
                    kept.pop()
                if kept and " " not in kept[-1].strip():
                    kept.pop()  # the file name line before the block
            continue
        if not fenced and (line.strip() or (kept and kept[-1].strip())):
            kept.append(line)  # no runs of blank lines
    return "\n".join(kept).strip()


class AiderDialect(Dialect):
    """Aider: `--model`, no sessions. Its chat history and usage log go to the task's agent
    folder, so nothing of it lands in the worktree; a fix round restores the history."""

    name = "aider"
    cli = "Aider"
    model_flags = ("--model",)
    resumes = False
    model_variable = "AIDER_MODEL"
    prompt_tokens = 1_000

    def files(self, job: WorkerJob) -> list[str]:
        """Only files that exist: given one in a folder that does not exist yet, Aider loses
        its repository ("Git repo: none") and writes elsewhere. It creates new files from its
        reply anyway."""
        return [f for f in job.task.files if (job.worktree / f).exists()]

    def with_model(self, argv: list[str], prompt_at: int, model: str) -> list[str]:
        if not model or any(a in self.model_flags for a in argv):
            return argv
        return insert_before(argv, 1, "--model", model)

    def prepare(self, job: WorkerJob, env: Mapping[str, str], agent_dir: Path) -> dict[str, str]:
        # A Python program: into a pipe its stdout is block-buffered, so a whole run could
        # look like silence to the log and to the stall watchdog.
        return {"PYTHONUNBUFFERED": "1"}

    def extra_args(self, argv: list[str], prompt_at: int, job: WorkerJob, env: Mapping[str, str],
                   agent_dir: Path) -> list[str]:  # fmt: skip
        history = agent_dir / "aider.chat.history.md"
        extra = ["--chat-history-file", str(history)]
        extra += ["--input-history-file", str(agent_dir / "aider.input.history")]
        extra += ["--analytics-log", str(agent_dir / "aider.usage.jsonl"), "--no-analytics"]
        if job.feedback.strip() and history.exists():
            extra.append("--restore-chat-history")  # a fix round or a retry: keep the context
        return insert_before(argv, 1, *extra)

    def stream(self, report: Reporter, price: Pricer, model: str, resumed: bool,
               agent_dir: Path) -> CliStream:  # fmt: skip
        log = agent_dir / "aider.usage.jsonl"
        with contextlib.suppress(OSError):
            log.unlink()  # one log per run: entries are matched to this run's printed lines
        return AiderStream(report, price, model, usage_log=log)
