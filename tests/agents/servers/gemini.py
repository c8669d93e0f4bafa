"""Gemini API (Gemini CLI): `POST /v1beta/models/MODEL:streamGenerateContent?alt=sse`.

Tool calls are `functionCall` parts in the CLI's vocabulary: `write_file {file_path, content}`,
`replace {file_path, old_string, new_string}`, `run_shell_command {command}`.
"""

from __future__ import annotations

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

_MODEL = re.compile(r"/models/([^/:]+):")
# The session context lists "- **Workspace Directories:**" then "  - /path" lines.
_WORKDIR = re.compile(r"Workspace Directories:\**\s*\n\s*- (/\S+)")
_QUOTA = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY = "type.googleapis.com/google.rpc.RetryInfo"

ERRORS: dict[str, tuple[int, dict[str, Any]]] = {
    "rate_limit": (
        429,
        {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "Resource has been exhausted (e.g. check quota).",
        },
    ),
    # A daily quota: the CLI is expected to treat it as terminal, not to retry.
    "usage_limit": (
        429,
        {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "You exceeded your current quota, please check your plan and billing.",
            "details": [
                {
                    "@type": _QUOTA,
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                        }
                    ],
                },
                {"@type": _RETRY, "retryDelay": "3600s"},
            ],
        },
    ),
    "bad_key": (
        401,
        {
            "code": 401,
            "status": "UNAUTHENTICATED",
            "message": "API key not valid. Please pass a valid API key.",
        },
    ),
    "server_error": (500, {"code": 500, "status": "INTERNAL", "message": "Internal error."}),
}


def _texts(body: Any) -> Iterator[str]:
    if not isinstance(body, dict):
        return
    system = body.get("systemInstruction") or {}
    for content in [system, *(body.get("contents") or [])]:
        for part in content.get("parts") or []:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"]


class GeminiApi(ApiAdapter):
    name = "gemini"
    headers_of_interest = ("x-goog-api-key", "x-goog-api-client", "user-agent", "authorization")

    def classify(self, method: str, path: str) -> str | None:
        if method != "POST" or "/models/" not in path:
            return None
        if path.endswith(":streamGenerateContent") or path.endswith(":generateContent"):
            return "turn"
        if path.endswith(":countTokens"):
            return "aux"
        return None

    def aux(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        return 200, {"totalTokens": sum(len(t) for t in _texts(body)) // 4}

    def model_of(self, path: str, body: Any) -> str:
        found = _MODEL.search(path)
        return found.group(1) if found else ""

    def streams(self, path: str, query: dict[str, list[str]], body: Any) -> bool:
        return path.endswith(":streamGenerateContent")

    def workdir(self, body: Any) -> str | None:
        for text in _texts(body):
            found = _WORKDIR.search(text)
            if found:
                return found.group(1)
        return None

    def tool_results(self, body: Any) -> list[ToolResult]:
        contents = (body or {}).get("contents") or []
        if not contents:
            return []
        results = []
        for part in contents[-1].get("parts") or []:
            response = part.get("functionResponse") if isinstance(part, dict) else None
            if response:
                payload = response.get("response") or {}
                error = payload.get("error")
                text = error if error else payload.get("output", payload)
                results.append(ToolResult(str(text), is_error=bool(error)))
        return results

    def _parts(self, turn: Turn) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if turn.text:
            parts.append({"text": turn.text})
        for call in turn.tool_calls:
            parts.append({"functionCall": {"name": call.name, "args": call.args}})
        return parts

    def _chunk(
        self, parts: list[dict[str, Any]], model: str, finish: bool, usage: tuple[int, int]
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        return {
            "candidates": [candidate],
            "usageMetadata": {
                "promptTokenCount": usage[0],
                "candidatesTokenCount": usage[1] if finish else 0,
                "totalTokenCount": usage[0] + (usage[1] if finish else 0),
            },
            "modelVersion": model,
            "responseId": "lab-response",
        }

    def sse(self, turn: Turn, model: str, usage: tuple[int, int]) -> Iterator[SseEvent]:
        pieces = [{"text": t} for t in chunks(turn.text, 40)] if turn.text else []
        calls = [p for p in self._parts(turn) if "functionCall" in p]
        for piece in pieces[:-1] if not calls else pieces:
            yield None, self._chunk([piece], model, False, usage)
        last = calls if calls else pieces[-1:] or [{"text": ""}]
        yield None, self._chunk(last, model, True, usage)

    def whole(self, turn: Turn, model: str, usage: tuple[int, int]) -> dict[str, Any]:
        return self._chunk(self._parts(turn) or [{"text": ""}], model, True, usage)

    def error(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        status, error = ERRORS[fault.kind]
        if fault.retry_after_s is not None and fault.kind == "rate_limit":
            # The API's own way to say when to come back (the CLI ignores Retry-After).
            delay = {"@type": _RETRY, "retryDelay": f"{fault.retry_after_s:g}s"}
            error = {**error, "details": [*error.get("details", []), delay]}
        return status, {"error": error}


def gemini_server(script: Iterable[Step] = ()) -> ModelServer:
    """A Gemini API server for Gemini CLI; its base URL is `server.url`."""
    return ModelServer(GeminiApi(), script)
