"""OpenAI Responses API (Codex): `POST {base}/responses`, always streamed as SSE.

Tools are items: `function_call` (JSON arguments, e.g. `exec_command {"cmd": …}`) and
`custom_tool_call` (free text, e.g. `apply_patch` with a `*** Begin Patch` body).
"""

from __future__ import annotations

import itertools
import json
import re
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
_CWD = re.compile(r"<cwd>([^<]+)</cwd>")
# Tools that take free text rather than JSON arguments.
FREEFORM_TOOLS = frozenset({"apply_patch"})

ERRORS = {
    "rate_limit": (
        429,
        {
            "type": "rate_limit_exceeded",
            "code": "rate_limit_exceeded",
            "message": "Rate limit reached for requests. Please try again in 1s.",
        },
    ),
    "usage_limit": (
        429,
        {
            "type": "usage_limit_reached",
            "message": "The usage limit has been reached",
            "plan_type": "plus",
            "resets_in_seconds": 3600,
        },
    ),
    "bad_key": (
        401,
        {
            "type": "invalid_request_error",
            "code": "invalid_api_key",
            "message": "Incorrect API key provided.",
        },
    ),
    "server_error": (500, {"type": "server_error", "message": "The server had an error."}),
}


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def apply_patch_add(path: str, content: str) -> str:
    """An apply_patch body that adds `path` (relative to the workdir) with `content`."""
    lines = "".join(f"+{line}\n" for line in content.splitlines())
    return f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"


def apply_patch_update(path: str, old: str, new: str) -> str:
    """An apply_patch body that replaces line `old` with line `new` in `path`."""
    return f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch\n"


class OpenAIResponses(ApiAdapter):
    name = "openai-responses"
    headers_of_interest = ("authorization", "user-agent", "originator", "openai-beta", "session_id")

    def classify(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/responses"):
            return "turn"
        if method == "GET" and path.endswith("/models"):
            return "aux"
        return None

    def aux(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return 200, {"object": "list", "data": [], "models": []}

    def streams(self, path: str, query: dict[str, list[str]], body: Any) -> bool:
        return not (isinstance(body, dict) and body.get("stream") is False)

    def workdir(self, body: Any) -> str | None:
        for item in (body or {}).get("input") or []:
            found = _CWD.search(_content_text(item.get("content")))
            if found:
                return found.group(1).strip()
        return None

    def tool_results(self, body: Any) -> list[ToolResult]:
        results: list[ToolResult] = []
        for item in reversed((body or {}).get("input") or []):
            if item.get("type") not in ("function_call_output", "custom_tool_call_output"):
                break
            output = item.get("output")
            text = output if isinstance(output, str) else json.dumps(output)
            results.append(ToolResult(text))
        return results[::-1]

    def _items(self, turn: Turn) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if turn.text:
            items.append(
                {
                    "type": "message",
                    "id": f"msg_{next(_ids):06d}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
                }
            )
        for call in turn.tool_calls:
            n = next(_ids)
            if call.name in FREEFORM_TOOLS or isinstance(call.args, str):
                items.append(
                    {
                        "type": "custom_tool_call",
                        "id": f"ctc_{n:06d}",
                        "call_id": f"call_{n:06d}",
                        "name": call.name,
                        "input": call.args,
                        "status": "completed",
                    }
                )
            else:
                items.append(
                    {
                        "type": "function_call",
                        "id": f"fc_{n:06d}",
                        "call_id": f"call_{n:06d}",
                        "name": call.name,
                        "arguments": json.dumps(call.args),
                        "status": "completed",
                    }
                )
        return items

    def _response(self, model: str, usage: tuple[int, int] | None, rid: str) -> dict[str, Any]:
        response: dict[str, Any] = {
            "id": rid,
            "object": "response",
            "model": model,
            "status": "completed" if usage else "in_progress",
            "output": [],
        }
        if usage:
            response["usage"] = {
                "input_tokens": usage[0],
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": usage[1],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": usage[0] + usage[1],
            }
        return response

    def sse(self, turn: Turn, model: str, usage: tuple[int, int]) -> Iterator[SseEvent]:
        rid = f"resp_{next(_ids):06d}"
        yield (
            "response.created",
            {
                "type": "response.created",
                "response": self._response(model, None, rid),
            },
        )
        for index, item in enumerate(self._items(turn)):
            added = {"type": "response.output_item.added", "output_index": index, "item": item}
            yield "response.output_item.added", added
            if item["type"] == "message":
                for piece in chunks(turn.text, 40):
                    yield (
                        "response.output_text.delta",
                        {
                            "type": "response.output_text.delta",
                            "item_id": item["id"],
                            "output_index": index,
                            "content_index": 0,
                            "delta": piece,
                        },
                    )
            done = {"type": "response.output_item.done", "output_index": index, "item": item}
            yield "response.output_item.done", done
        yield (
            "response.completed",
            {
                "type": "response.completed",
                "response": self._response(model, usage, rid),
            },
        )

    def whole(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        response = self._response(model, usage, f"resp_{next(_ids):06d}")
        response["output"] = self._items(turn)
        return response

    def error(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        status, error = ERRORS[fault.kind]
        return status, {"error": error}


def responses_server(script: Iterable[Step] = ()) -> ModelServer:
    """A Responses API server for Codex; its base URL is `server.url + '/v1'`."""
    return ModelServer(OpenAIResponses(), script)
