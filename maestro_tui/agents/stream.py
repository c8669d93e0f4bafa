"""What a coding CLI's output stream becomes: Reporter calls while it runs, an outcome after.

One parser per CLI (claude.py, codex.py, gemini.py, aider.py) subclasses `CliStream`. A line
a parser does not know, or that breaks it, is shown as text: what a CLI prints never crashes
the run. Exit codes say little (Aider exits 0 on a bad key, Claude Code and Codex on a refused
edit, Gemini CLI with the HTTP status modulo 256), so success, refusals, errors and limits are
read from the output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter
from maestro_tui.agents.readiness import Endpoint
from maestro_tui.process import shorten

# (model, tokens in, tokens out) -> USD, or None when nobody knows the model's price.
Pricer = Callable[[str, int, int], float | None]
# Tries in a row that could not connect to the model endpoint before the run is given up: a
# server restarting gets a second chance, a dead one not the CLI's whole backoff (Gemini
# CLI: 10 tries over ~200 s, 11 lines of stack each).
GIVE_UP_AFTER = 2


def no_prices(model: str, tokens_in: int, tokens_out: int) -> float | None:
    return None


@dataclass
class RunOutcome:
    """How one run of a CLI ended, as read from its output."""

    session: str = ""
    model: str = ""  # the model it used, as it says (or as we asked for)
    final: str = ""  # its last message: the commit body
    error: str = ""  # it failed: an error result, a bad key, a refused tool call
    limit: str = ""  # a rate or usage limit stopped it: wait, then go on
    retry_after_s: float | None = None
    refusals: list[str] = field(default_factory=list)
    turns: int = 0  # model turns seen (0: it never got an answer)
    lost_session: bool = False  # asked to resume a session it no longer has


class CliStream:
    """Base of the per-CLI parsers: `feed` every line, then `finish` with the exit code."""

    cli = "the agent"
    # What it prints when asked to resume a session it does not have (then: a new session).
    lost_session: tuple[str, ...] = ()

    def __init__(self, report: Reporter, price: Pricer = no_prices, model: str = "") -> None:
        self.report = report
        self.price = price
        self.outcome = RunOutcome(model=model)
        self.worktree: Path | None = None  # set by the worker: paths are shown relative to it
        self.endpoint: Endpoint | None = None  # set by the worker: where its model is
        self.env: Mapping[str, str] = {}  # set by the worker: the CLI's environment
        # It cannot reach its model endpoint, try after try: the worker stops it (then
        # `say_unreachable`) rather than wait out its retries.
        self.hopeless = False
        # A refused action fails the run (a task's edit that did not happen); False for a run
        # that is read-only on purpose (a planner), where a refused write is the point.
        self.refusal_is_error = True

    def feed(self, line: str, stream: str) -> None:
        """One line of stdout or stderr; shown as it is unless the parser shows it another way."""
        if any(words in line for words in self.lost_session):
            self.outcome.lost_session = True
        try:
            shown = self.on_stdout(line) if stream == "stdout" else self.on_stderr(line)
        except Exception as exc:  # a line we misread is still the agent's output
            self.report.output(shorten(line), stream)
            self.report.output(f"(maestro-tui could not read that line: {exc!r})", "stderr")
            return
        if not shown:
            self.report.output(shorten(line), stream)

    def on_stdout(self, line: str) -> bool:
        """Handle a stdout line; True when it was shown (or is not worth showing)."""
        return False

    def on_stderr(self, line: str) -> bool:
        return False

    def finish(self, exit_code: int | None) -> RunOutcome:
        """The outcome, once the process has ended (exit_code None: we stopped it)."""
        outcome = self.outcome
        if exit_code not in (0, None) and not (outcome.error or outcome.limit):
            outcome.error = f"{self.cli} exited with code {exit_code}"
        if outcome.refusals and self.refusal_is_error and not outcome.error:
            shown = "; ".join(outcome.refusals[:3])
            more = f" (and {len(outcome.refusals) - 3} more)" if len(outcome.refusals) > 3 else ""
            outcome.error = f"{self.cli} refused {len(outcome.refusals)} action(s): {shown}{more}"
        return outcome

    # --- helpers for the parsers -----------------------------------------------------------

    def say(self, text: str) -> None:
        """The agent's own words, for its log (one event per line)."""
        for line in text.splitlines() or [""]:
            self.report.output(shorten(line), "llm")

    def usage(self, model: str, tokens_in: int, tokens_out: int, cost: float | None) -> None:
        """One metered model call (or run); priced by us when the CLI gives no cost."""
        if cost is None:
            cost = self.price(model, tokens_in, tokens_out)
        self.report.usage(model, tokens_in, tokens_out, cost)

    def relative(self, path: str) -> str:
        """A path the CLI printed, relative to the worktree when it lies inside it."""
        if self.worktree is not None and path.startswith("/"):
            try:
                return Path(path).relative_to(self.worktree).as_posix()
            except ValueError:
                return path
        return path

    def cannot_connect(self, tries: int) -> None:
        """The CLI says its `tries`-th try in a row could not connect to its model endpoint."""
        if tries >= GIVE_UP_AFTER:
            self.hopeless = True

    def say_unreachable(self, why: str) -> None:
        """Once it is stopped as hopeless: one line for the log, and the run's error, saying
        which endpoint, why, and what to check."""
        end = self.endpoint
        if end is None or not end.url:
            where, check = "its model endpoint", "where its model is configured"
        elif end.named:
            where = f"its model endpoint {end.url}"
            check = f"{end.variable}, and that the model server there is running"
        else:
            where = f"its model endpoint {end.url} (its default: {end.variable} is not set)"
            check = "this machine's network, and its proxy (HTTPS_PROXY) if it needs one"
        line = (
            f"{self.cli} cannot reach {where}: {why}; stopped after {GIVE_UP_AFTER} tries"
            f" rather than retry for minutes. Check {check}."
        )
        self.report.output(line, "stderr")
        self.outcome.error = line

    def refuse(self, text: str) -> None:
        self.outcome.refusals.append(shorten(text.strip(), 300))

    def found_session(self, session_id: str, resumed: bool) -> None:
        if session_id and session_id != self.outcome.session:
            self.outcome.session = session_id
            self.report.session(session_id, resumed)


def json_object(line: str) -> dict[str, Any] | None:
    """The line as a JSON object, or None when it is not one."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def brief(args: Any, limit: int = 200) -> str:
    """A tool call's arguments in one short line (file contents left out)."""
    if isinstance(args, dict):
        parts = []
        for key, value in args.items():
            if key in ("content", "new_string", "old_string", "input") and isinstance(value, str):
                parts.append(f"{key}=<{len(value):,} chars>")
            else:
                parts.append(f"{key}={value!r}" if not isinstance(value, str) else f"{key}={value}")
        text = ", ".join(parts)
    else:
        text = str(args)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


LIMIT_WORDS = ("rate limit", "rate_limit", "usage limit", "quota", "429", "too many requests")


def is_limit(text: str) -> bool:
    """Does an error message speak of a rate or usage limit?"""
    lowered = text.lower()
    return any(word in lowered for word in LIMIT_WORDS)
