"""OpenAI Chat Completions (Aider through litellm): `POST /v1/chat/completions`.

Aider edits through text, not tools: in its "whole" edit format a reply names a file on one line
and gives the file's new content in a fenced block right after (`whole_edit`).
"""

from __future__ import annotations

import itertools
import json
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

ERRORS = {
    "rate_limit": (
        429,
        {
            "message": "Rate limit reached for requests. Please try again in 1s.",
            "type": "requests",
            "code": "rate_limit_exceeded",
        },
    ),
    "usage_limit": (
        429,
        {
            "message": "You exceeded your current quota, please check your plan and billing"
            " details.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        },
    ),
    "bad_key": (
        401,
        {
            "message": "Incorrect API key provided.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        },
    ),
    "server_error": (500, {"message": "The server had an error.", "type": "server_error"}),
}


def whole_edit(path: str, content: str, intro: str = "") -> str:
    """A reply in Aider's whole format: optional prose, the path, then the file in a fence."""
    fence = "````" if "```" in content else "```"
    body = content if content.endswith("\n") else content + "\n"
    return (intro + "\n\n" if intro else "") + f"{path}\n{fence}\n{body}{fence}\n"


class OpenAIChat(ApiAdapter):
    name = "openai-chat"
    headers_of_interest = ("authorization", "user-agent", "x-stainless-retry-count")

    def classify(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/chat/completions"):
            return "turn"
        if method == "GET" and path.endswith("/models"):
            return "aux"
        return None

    def aux(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return 200, {"object": "list", "data": []}

    def tool_results(self, body: Any) -> list[ToolResult]:
        results: list[ToolResult] = []
        for message in reversed((body or {}).get("messages") or []):
            if message.get("role") != "tool":
                break
            results.append(ToolResult(str(message.get("content", ""))))
        return results[::-1]

    def _tool_calls(self, turn: Turn) -> list[dict[str, Any]]:
        return [
            {
                "id": f"call_{next(_ids):06d}",
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.args if isinstance(c.args, str) else json.dumps(c.args),
                },
            }
            for c in turn.tool_calls
        ]

    @staticmethod
    def _usage(usage: tuple[int, int]) -> dict[str, int]:
        return {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": usage[0] + usage[1],
        }

    def whole(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
        if turn.tool_calls:
            message["tool_calls"] = self._tool_calls(turn)
        return {
            "id": f"chatcmpl-{next(_ids):06d}",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if turn.tool_calls else "stop",
                }
            ],
            "usage": self._usage(usage),
        }

    def sse(self, turn: Turn, model: str, usage: tuple[int, int]) -> Iterator[SseEvent]:
        head = {
            "id": f"chatcmpl-{next(_ids):06d}",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None) -> SseEvent:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return None, {**head, "choices": [choice]}

        yield chunk({"role": "assistant", "content": ""})
        if turn.text:
            for piece in chunks(turn.text, 40):
                yield chunk({"content": piece})
        for index, call in enumerate(self._tool_calls(turn)):
            yield chunk({"tool_calls": [{"index": index, **call}]})
        yield chunk({}, "tool_calls" if turn.tool_calls else "stop")
        yield None, {**head, "choices": [], "usage": self._usage(usage)}

    def done_marker(self) -> bytes:
        return b"data: [DONE]\n\n"

    def error(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        status, error = ERRORS[fault.kind]
        return status, {"error": error}


def chat_server(script: Iterable[Step] = ()) -> ModelServer:
    """A Chat Completions server for Aider; its base URL is `server.url + '/v1'`."""
    return ModelServer(OpenAIChat(), script)
