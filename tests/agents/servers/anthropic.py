"""Anthropic Messages API (Claude Code): `POST /v1/messages`, SSE when `stream` is true."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tests.agents.servers.core import (
    ApiAdapter,
    Fault,
    ModelServer,
    SseEvent,
    Step,
    ToolResult,
    Turn,
    chunks,
)

_ids = itertools.count(1)
_WORKDIR = re.compile(r"Primary working directory: (\S+)")

ERRORS = {
    "rate_limit": (429, "rate_limit_error", "Number of request tokens has exceeded your limit."),
    "usage_limit": (429, "rate_limit_error", "Claude AI usage limit reached"),
    "bad_key": (401, "authentication_error", "invalid x-api-key"),
    "server_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


class AnthropicMessages(ApiAdapter):
    name = "anthropic"
    headers_of_interest = (
        "x-api-key",
        "authorization",
        "anthropic-version",
        "anthropic-beta",
        "user-agent",
        "x-app",
    )

    def classify(self, method: str, path: str) -> str | None:
        if method == "POST" and path == "/v1/messages":
            return "turn"
        if method == "POST" and path == "/v1/messages/count_tokens":
            return "aux"
        return None

    def aux(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return 200, {"input_tokens": len(json.dumps(body)) // 4}

    def workdir(self, body: Any) -> str | None:
        # In the system prompt, or (2.1.3xx) in a role "system" message among the messages.
        if not isinstance(body, dict):
            return None
        texts = [_text_of(body.get("system"))]
        texts += [_text_of(m.get("content")) for m in body.get("messages") or []]
        for text in texts:
            found = _WORKDIR.search(text)
            if found:
                return found.group(1)
        return None

    def tool_results(self, body: Any) -> list[ToolResult]:
        messages = body.get("messages") or [] if isinstance(body, dict) else []
        if not messages or not isinstance(messages[-1].get("content"), list):
            return []
        return [
            ToolResult(_text_of(block.get("content")), bool(block.get("is_error")))
            for block in messages[-1]["content"]
            if block.get("type") == "tool_result"
        ]

    def _blocks(self, turn: Turn) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if turn.text:
            blocks.append({"type": "text", "text": turn.text})
        for call in turn.tool_calls:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{next(_ids):06d}",
                    "name": call.name,
                    "input": call.args,
                }
            )
        return blocks

    def _message(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        return {
            "id": f"msg_{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage[0],
                "output_tokens": 1,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }

    def sse(self, turn: Turn, model: str, usage: tuple[int, int]) -> Iterator[SseEvent]:
        yield (
            "message_start",
            {"type": "message_start", "message": self._message(turn, model, usage)},
        )
        for index, block in enumerate(self._blocks(turn)):
            if block["type"] == "text":
                start = {**block, "text": ""}
                deltas = [{"type": "text_delta", "text": t} for t in chunks(block["text"], 40)]
            else:
                start = {**block, "input": {}}
                raw = json.dumps(block["input"])
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in chunks(raw, 400)]
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": start,
                },
            )
            for delta in deltas:
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": delta,
                    },
                )
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        stop = "tool_use" if turn.tool_calls else "end_turn"
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage[1]},
            },
        )
        yield "message_stop", {"type": "message_stop"}

    def whole(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        message = self._message(turn, model, usage)
        message["content"] = self._blocks(turn)
        message["stop_reason"] = "tool_use" if turn.tool_calls else "end_turn"
        message["usage"]["output_tokens"] = usage[1]
        return message

    def error_headers(self, fault: Fault) -> dict[str, str]:
        if fault.kind != "usage_limit":
            return {}
        # What a subscription's exhausted 5-hour window looks like: rejected, resets in an hour.
        return {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-reset": str(int(time.time()) + 3600),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
        }

    def error(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        status, kind, message = ERRORS[fault.kind]
        return status, {"type": "error", "error": {"type": kind, "message": message}}


def anthropic_server(script: Iterable[Step] = ()) -> ModelServer:
    """A Messages API server for Claude Code; its base URL is `server.url`."""
    return ModelServer(AnthropicMessages(), script)
