"""Claude Code's `--output-format stream-json --verbose` stream, line by line.

Lines (see tests/agents/transcripts/README.md): `system` (init with session id and model;
`api_retry` while it retries an API error itself; `permission_denied` for a refused tool
call), `assistant` (one line per content block: text or tool_use), `user` (tool results),
`stream_event` (with `--include-partial-messages`: the raw API stream, whose message_start and
message_delta carry each turn's exact usage), and `result` last (final text, is_error, this
run's cost per model in `model_usage_since_last_result`).

Metering: with stream events, one LLMUsage per model turn as it ends, priced from our price
table; the run's last turn is held back and settles the bill, so the run's total is the cost
Claude Code reports. Without them (a custom argv), one LLMUsage per model at the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter
from maestro_tui.agents.dialect import Dialect
from maestro_tui.agents.stream import CliStream, Pricer, RunOutcome, brief, is_limit, json_object


@dataclass
class _Turn:
    model: str
    tokens_in: int
    tokens_out: int = 0


def _tokens_in(usage: dict[str, Any]) -> int:
    return sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )


class ClaudeStream(CliStream):
    cli = "Claude Code"
    lost_session = ("No conversation found with session ID",)

    def __init__(self, *args: Any, resumed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resumed = resumed
        self._pending_tools: dict[str, tuple[str, str]] = {}  # tool_use id -> (name, args)
        self._turn: _Turn | None = None  # the turn being streamed
        self._held: list[_Turn] = []  # finished turns not yet metered
        self._metered_cost = 0.0
        self._metered_any = False
        self._saw_result = False

    def on_stdout(self, line: str) -> bool:
        data = json_object(line)
        if data is None:
            return False
        kind = data.get("type")
        session = data.get("session_id")
        if isinstance(session, str):
            self.found_session(session, self._resumed)
        handler = {
            "system": self._system,
            "assistant": self._assistant,
            "user": self._user,
            "stream_event": self._stream_event,
            "result": self._result,
        }.get(str(kind))
        if handler is None:
            return False
        handler(data)
        return True

    # --- line kinds -------------------------------------------------------------------------

    def _system(self, data: dict[str, Any]) -> None:
        subtype = data.get("subtype")
        if subtype == "init":
            self.outcome.model = str(data.get("model") or self.outcome.model)
            version = data.get("claude_code_version", "")
            self.report.output(
                f"Claude Code {version} on {self.outcome.model}, session {self.outcome.session}",
                "stderr",
            )
        elif subtype == "api_retry":
            status = data.get("error_status")
            why = str(data.get("error") or "error")
            delay = float(data.get("retry_delay_ms") or 0) / 1000
            reason = (
                f"API {why}" + (f" (HTTP {status})" if status else "") + ": Claude Code retries"
                f" ({data.get('attempt')}/{data.get('max_retries')})"
            )
            if status == 429 or why == "rate_limit":
                self.report.waiting(reason, delay)
            else:
                self.report.output(f"{reason} in {delay:.1f} s", "stderr")
        elif subtype == "permission_denied":
            message = str(data.get("message") or data.get("decision_reason") or "refused")
            self.refuse(f"{data.get('tool_name', 'a tool')}: {message}")
        # status and other housekeeping lines say nothing a person needs

    def _assistant(self, data: dict[str, Any]) -> None:
        message = data.get("message") or {}
        if message.get("model") == "<synthetic>" or data.get("is_api_error_message"):
            text = " ".join(b.get("text", "") for b in message.get("content") or [])
            self.report.output(text, "stderr")
            return
        for block in message.get("content") or []:
            if block.get("type") == "text" and block.get("text", "").strip():
                self.say(block["text"])
            elif block.get("type") == "tool_use":
                self._pending_tools[str(block.get("id"))] = (
                    str(block.get("name")),
                    brief(self._relative_args(block.get("input"))),
                )

    def _user(self, data: dict[str, Any]) -> None:
        content = (data.get("message") or {}).get("content")
        if not isinstance(content, list):
            return
        structured = data.get("tool_use_result")
        for block in content:
            if block.get("type") != "tool_result":
                continue
            name, args = self._pending_tools.pop(str(block.get("tool_use_id")), ("tool", ""))
            failed = bool(block.get("is_error"))
            error = _text(block.get("content")) if failed else ""
            self.report.tool(name, args, ok=not failed, error=error)
            if not failed and isinstance(structured, dict) and structured.get("filePath"):
                change = "added" if structured.get("type") == "create" else "modified"
                self.report.file_changed(self.relative(str(structured["filePath"])), change)

    def _stream_event(self, data: dict[str, Any]) -> None:
        event = data.get("event") or {}
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            model = str(message.get("model") or self.outcome.model)
            self._turn = _Turn(model, _tokens_in(message.get("usage") or {}))
        elif kind == "message_delta" and self._turn is not None:
            self._turn.tokens_out = int((event.get("usage") or {}).get("output_tokens") or 0)
        elif kind == "message_stop" and self._turn is not None:
            self.outcome.turns += 1
            self._meter(self._turn)
            self._turn = None

    def _result(self, data: dict[str, Any]) -> None:
        self._saw_result = True
        text = str(data.get("result") or "")
        by_model = data.get("model_usage_since_last_result")
        if not isinstance(by_model, dict):
            by_model = data.get("modelUsage") if not self._resumed else {}
        self._settle(by_model or {}, data)
        if not self.outcome.refusals:  # versions without permission_denied lines
            for denial in data.get("permission_denials") or []:
                path = (denial.get("tool_input") or {}).get("file_path", "")
                self.refuse(f"{denial.get('tool_name', 'a tool')}: {self.relative(str(path))}")
        if data.get("is_error"):
            status = data.get("api_error_status")
            problem = text or str(data.get("subtype") or "an error")
            if status == 429 or is_limit(problem):
                self.outcome.limit = f"Claude Code: {problem}"
            else:
                self.outcome.error = f"Claude Code failed: {problem}" + (
                    f" (HTTP {status})" if status else ""
                )
        else:
            self.outcome.final = text
            self.outcome.turns = max(self.outcome.turns, int(data.get("num_turns") or 0))

    # --- metering ---------------------------------------------------------------------------

    def _meter(self, turn: _Turn) -> None:
        """A finished turn: the one held before it is metered now; this one waits, so the
        result (with Claude Code's own cost) can settle the run's bill on it."""
        if self._held and self.price(turn.model, 0, 0) is not None:
            for held in self._held:
                cost = self.price(held.model, held.tokens_in, held.tokens_out)
                self._metered_cost += cost or 0.0
                self.report.usage(held.model, held.tokens_in, held.tokens_out, cost)
            self._held = []
            self._metered_any = True
        self._held.append(turn)

    def _settle(self, by_model: dict[str, Any], data: dict[str, Any]) -> None:
        """At the result: meter what is held so the run adds up to the CLI's own cost."""
        total = sum(float(u.get("costUSD") or 0) for u in by_model.values())
        if not self._held and not self._metered_any:
            # No stream events: one call per model, as the result counts them.
            for model, u in by_model.items():
                tokens_in = sum(
                    int(u.get(k) or 0)
                    for k in ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens")
                )
                cost = u.get("costUSD")
                self.report.usage(model, tokens_in, int(u.get("outputTokens") or 0), _money(cost))
            return
        remainder = max(0.0, total - self._metered_cost) if by_model else None
        weights = [t.tokens_in + 5 * t.tokens_out for t in self._held] or [1]
        for turn, weight in zip(self._held, weights, strict=False):
            cost = None if remainder is None else remainder * weight / (sum(weights) or 1)
            if cost is None:
                cost = self.price(turn.model, turn.tokens_in, turn.tokens_out)
            self.report.usage(turn.model, turn.tokens_in, turn.tokens_out, cost)
        self._held = []

    def finish(self, exit_code: int | None) -> RunOutcome:
        if self._held:  # it ended without a result (stopped): meter at our prices
            self._settle({}, {})
        if exit_code == 0 and not self._saw_result and not self.outcome.error:
            self.outcome.error = "Claude Code ended without a result"
        return super().finish(exit_code)

    def _relative_args(self, args: Any) -> Any:
        if isinstance(args, dict) and isinstance(args.get("file_path"), str):
            return {**args, "file_path": self.relative(args["file_path"])}
        return args


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _money(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class ClaudeDialect(Dialect):
    """Claude Code: `--model`, `--resume SESSION` (same HOME), stream-json on stdout."""

    name = "claude"
    cli = "Claude Code"
    model_flags = ("--model",)
    resumes = True
    model_variable = "ANTHROPIC_MODEL"
    prompt_tokens = 22_000

    def with_session(self, argv: list[str], prompt_at: int, session: str) -> list[str]:
        return [*argv, "--resume", session]

    def stream(self, report: Reporter, price: Pricer, model: str, resumed: bool,
               agent_dir: Path) -> CliStream:  # fmt: skip
        return ClaudeStream(report, price, model, resumed=resumed)
