"""The loopback model servers on their own: wire shapes, faults, recording, script errors."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.agents.servers.anthropic import anthropic_server
from tests.agents.servers.core import Fault, ModelServer, RecordedRequest, ToolCall, Turn
from tests.agents.servers.gemini import gemini_server
from tests.agents.servers.openai_chat import chat_server, whole_edit
from tests.agents.servers.openai_responses import apply_patch_add, responses_server


@pytest.fixture
def started() -> Iterator[list[ModelServer]]:
    servers: list[ModelServer] = []
    yield servers
    for server in servers:
        server.stop()


def post(server: ModelServer, path: str, body: dict[str, Any], timeout: float = 5) -> Any:
    request = urllib.request.Request(
        server.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        raw = answer.read().decode()
    if answer.headers["Content-Type"] != "text/event-stream":
        return json.loads(raw)
    events = []
    for block in raw.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields and fields["data"] != "[DONE]":
            events.append((fields.get("event"), json.loads(fields["data"])))
    return events


def test_anthropic_streams_text_and_a_tool_call_with_usage(started: list[ModelServer]) -> None:
    args = {"file_path": "/w/a.txt", "content": "x" * 1000}
    server = anthropic_server([Turn(text="Writing.", tool_calls=(ToolCall("Write", args),))])
    started.append(server.start())
    events = post(server, "/v1/messages?beta=true", {"model": "claude-x", "stream": True})

    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    blocks = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert [(b["type"], b.get("name")) for b in blocks] == [("text", None), ("tool_use", "Write")]
    partial = [
        d["delta"]["partial_json"] for _, d in events if d.get("index") == 1 and "delta" in d
    ]
    assert len(partial) > 1 and json.loads("".join(partial)) == args
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    (turn,) = server.turns
    assert (turn.model, turn.query) == ("claude-x", {"beta": ["true"]})
    # Usage estimated from sizes: about 4 characters a token, the tool input included.
    assert turn.usage is not None and turn.usage[1] > 250
    assert events[0][1]["message"]["usage"]["input_tokens"] == turn.usage[0]
    assert events[-2][1]["usage"]["output_tokens"] == turn.usage[1]


def test_faults_come_before_the_script_and_are_recorded(started: list[ModelServer]) -> None:
    server = anthropic_server([Turn(text="ok")])
    server.fail(Fault("rate_limit", retry_after_s=2)).fail("usage_limit").fail("bad_key")
    started.append(server.start())
    seen = []
    for _ in range(3):
        with pytest.raises(urllib.error.HTTPError) as caught:
            post(server, "/v1/messages", {"model": "m"})
        seen.append((caught.value.code, json.load(caught.value)["error"]["type"]))
        if caught.value.code == 429 and not seen[:-1]:
            assert caught.value.headers["Retry-After"] == "2"
    assert seen == [
        (429, "rate_limit_error"),
        (429, "rate_limit_error"),
        (401, "authentication_error"),
    ]
    assert post(server, "/v1/messages", {"model": "m"})["content"] == [
        {"type": "text", "text": "ok"}
    ]
    assert [(t.status, t.fault) for t in server.turns] == [
        (429, "rate_limit"),
        (429, "usage_limit"),
        (401, "bad_key"),
        (200, None),
    ]


def test_a_step_sees_the_request_and_a_broken_step_answers_500(started: list[ModelServer]) -> None:
    def echo_cwd(request: RecordedRequest) -> Turn:
        return Turn(text=f"cwd={request.workdir}")

    server = anthropic_server([echo_cwd, lambda request: Turn(text=str(1 / 0))])
    started.append(server.start())
    system = [{"type": "text", "text": " - Primary working directory: /srv/checkout\n"}]
    answer = post(server, "/v1/messages", {"model": "m", "system": system})
    assert answer["content"][0]["text"] == "cwd=/srv/checkout"
    with pytest.raises(urllib.error.HTTPError) as caught:
        post(server, "/v1/messages", {"model": "m"})
    assert caught.value.code == 500
    assert [type(e) for e in server.script_errors] == [ZeroDivisionError]
    assert post(server, "/v1/messages", {"model": "m"})["content"][0]["text"] == (
        "(the script is exhausted)"
    )


def test_a_stalled_request_gets_no_answer_until_the_server_stops(
    started: list[ModelServer],
) -> None:
    server = chat_server().fail("stall")
    started.append(server.start())
    with pytest.raises(TimeoutError):
        post(server, "/v1/chat/completions", {"model": "m"}, timeout=0.5)
    stopper = threading.Thread(target=server.stop)
    begun = time.monotonic()
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive() and time.monotonic() - begun < 5
    assert server.turns[0].fault == "stall"


def test_responses_items_for_a_function_and_a_freeform_tool(started: list[ModelServer]) -> None:
    calls = (
        ToolCall("exec_command", {"cmd": "ls"}),
        ToolCall("apply_patch", apply_patch_add("a", "b")),
    )
    server = responses_server([Turn(text="Hi.", tool_calls=calls)])
    started.append(server.start())
    cwd = "<environment_context>\n  <cwd>/w/t</cwd>\n</environment_context>"
    body = {"model": "gpt-x", "input": [{"type": "message", "role": "user", "content": cwd}]}
    events = post(server, "/v1/responses", body)

    done = [data["item"] for name, data in events if name == "response.output_item.done"]
    assert [(i["type"], i.get("name")) for i in done] == [
        ("message", None),
        ("function_call", "exec_command"),
        ("custom_tool_call", "apply_patch"),
    ]
    assert json.loads(done[1]["arguments"]) == {"cmd": "ls"}
    assert done[2]["input"].startswith("*** Begin Patch\n*** Add File: a\n+b\n")
    completed = events[-1][1]["response"]
    assert events[-1][0] == "response.completed"
    assert completed["usage"]["input_tokens"] == server.turns[0].usage[0]  # type: ignore[index]
    assert server.turns[0].workdir == "/w/t"


def test_gemini_reads_the_model_from_the_path_and_ends_with_usage(
    started: list[ModelServer],
) -> None:
    server = gemini_server([Turn(tool_calls=(ToolCall("write_file", {"file_path": "/a"}),))])
    started.append(server.start())
    events = post(server, "/v1beta/models/gemini-x:streamGenerateContent?alt=sse", {"contents": []})

    last = events[-1][1]
    assert last["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "write_file", "args": {"file_path": "/a"}}}
    ]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"]["candidatesTokenCount"] == server.turns[0].usage[1]  # type: ignore[index]
    assert server.turns[0].model == "gemini-x"


def test_chat_answers_whole_or_streamed(started: list[ModelServer]) -> None:
    text = whole_edit("a.py", "print(1)\n")
    server = chat_server([Turn(text=text, usage=(10, 3)), Turn(text=text)])
    started.append(server.start())
    whole = post(server, "/v1/chat/completions", {"model": "m"})
    assert whole["choices"][0]["message"]["content"] == "a.py\n```\nprint(1)\n```\n"
    assert whole["usage"] == {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    streamed = post(server, "/v1/chat/completions", {"model": "m", "stream": True})
    pieces = [d["choices"][0]["delta"].get("content", "") for _, d in streamed if d["choices"]]
    assert "".join(pieces) == text and "usage" in streamed[-1][1]
