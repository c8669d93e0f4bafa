"""The offline demo model: a deterministic litellm custom provider ("demo/planner", "demo/coder").

It plans the sample repo's goal through `submit_plan` and works each task by following the
task's script in `maestro_tui.llm.demo.script`, one tool call per turn, reacting to tool results.
Tokens are counted from text length and priced at a declared, simulated rate.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import os
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PROVIDER = "demo"
DEMO_MODELS = ("demo/planner", "demo/coder")
SIMULATED_PRICE = (0.50, 2.00)  # usd per 1M tokens in, out: declared, not a real price
CHARS_PER_TOKEN = 4
TOKENS_PER_SECOND = 40.0  # at MAESTRO_DEMO_PACE=1
PACE_ENV = "MAESTRO_DEMO_PACE"
# For benchmarks of verification: the share of the demo coder's edits that are broken on
# purpose (0 = none, the default), drawn from a seeded generator so runs can be repeated.
FAULTS_ENV = "MAESTRO_DEMO_FAULTS"
SEED_ENV = "MAESTRO_DEMO_SEED"
FAULT_LINE = '\nraise RuntimeError("a deliberate demo fault")\n'
_edits_seen: dict[str, int] = {}
_TASK_ID = re.compile(r"^Task id: *(\S+)", re.MULTILINE)
_CONFLICTED = re.compile(r"Conflict markers \([^)]*\) in ([^\s,]+) show")
_CANDIDATE = re.compile(r"^Candidate: *(\d+)", re.MULTILINE)


def is_demo_model(model: str) -> bool:
    return model.startswith(PROVIDER + "/")


def demo_pace() -> float:
    """The delay multiplier from MAESTRO_DEMO_PACE (1 = ~40 tokens/s, 0 = no delay)."""
    try:
        return max(0.0, float(os.environ.get(PACE_ENV, "1")))
    except ValueError:
        return 1.0


def _draw_fault(key: str) -> bool:
    """Whether this edit is broken: the nth edit of a key in this process gets its own draw."""
    try:
        rate = float(os.environ.get(FAULTS_ENV, "0"))
    except ValueError:
        rate = 0.0
    if rate <= 0:
        return False
    n = _edits_seen.get(key, 0)
    _edits_seen[key] = n + 1
    seed = os.environ.get(SEED_ENV, "0")
    digest = hashlib.sha256(f"{seed}:{key}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def count_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class DemoTurn:
    """What the demo model answers on one turn: some text and at most one tool call."""

    text: str
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str = "call_demo"


def respond(messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]) -> DemoTurn:
    """The demo model's deterministic answer to a conversation."""
    names = {str(t.get("function", {}).get("name")) for t in tools or ()}
    if not names:
        return _advice_turn(messages)
    if "submit_plan" in names:
        return _plan_turn(messages, names)
    if "verdict" in names:
        return _review_turn(messages)
    if "pick" in names:
        return _pick_turn(messages)
    return _worker_turn(messages)


_QUESTION = re.compile(r"^## Question\n(.+)$", re.MULTILINE)
_STAGE = re.compile(r"^## Stage: *(\w+)", re.MULTILINE)


def _advice_turn(messages: Sequence[Mapping[str, Any]]) -> DemoTurn:
    """Asked with no tools, as an MCP consult is: short, deterministic text advice."""
    brief = "\n".join(_content(m) for m in messages if m.get("role") == "user")
    question = _QUESTION.search(brief)
    topic = (question.group(1) if question else brief.strip().split("\n", 1)[0])[:120]
    stage = _STAGE.search(brief)
    where = f" In the {stage.group(1)} stage:" if stage else ""
    return DemoTurn(
        f"Demo advice on “{topic}”.{where} reproduce the problem with the smallest failing "
        "test, change one thing at a time, and let the test suite decide."
    )


def _pick_turn(messages: Sequence[Mapping[str, Any]]) -> DemoTurn:
    """As a judge: the shortest candidate diff (the demo's candidates are equally correct)."""
    brief = "\n".join(_content(m) for m in messages if m.get("role") == "user")
    sizes = {
        int(n): len(body)
        for n, body in re.findall(r"## Candidate (\d+)\n```diff\n(.*?)\n```", brief, re.S)
    }
    if not sizes:
        return DemoTurn("Nothing to compare.", "pick", {"candidate": 1, "reason": "no diffs"})
    best = min(sizes, key=lambda n: (sizes[n], n))
    reason = f"candidate {best} does the task with the smallest diff"
    return DemoTurn("Comparing the candidates.", "pick", {"candidate": best, "reason": reason})


def _review_turn(messages: Sequence[Mapping[str, Any]]) -> DemoTurn:
    """As the critic: approve a diff that has content and green tests, else send it back."""
    brief = "\n".join(_content(m) for m in messages if m.get("role") == "user")
    task = _TASK_ID.search(brief)
    name = task.group(1) if task else "the task"
    red = re.search(r"\d+ failed", brief)
    empty = "```diff\n\n```" in brief
    if red or empty:
        why = "the tests fail" if red else "the diff is empty"
        return DemoTurn("Not yet.", "verdict", {"approved": False, "comments": f"{name}: {why}."})
    comment = f"{name}: the change matches the task and the tests pass."
    return DemoTurn("Looks right.", "verdict", {"approved": True, "comments": comment})


def _plan_turn(messages: Sequence[Mapping[str, Any]], names: set[str]) -> DemoTurn:
    """As the planner: the reads of PLANNER_READS first (when it has the reading tools and
    the last one went well), then the demo plan."""
    from maestro_tui.llm.demo.script import PLANNER_READS, demo_plan

    n_calls = sum(1 for m in messages if m.get("role") == "assistant")
    last = _content(messages[-1]) if messages else ""
    if (
        n_calls < len(PLANNER_READS)
        and {"read_file", "search_code"} <= names
        and not last.startswith("error:")
        and "reading budget is spent" not in last
    ):
        say, tool, arguments = PLANNER_READS[n_calls]
        return DemoTurn(say, tool, dict(arguments), call_id=f"call_read_{n_calls}")
    plan = demo_plan()
    text = (
        f"Splitting the goal into {len(plan['tasks'])} small tasks: types and docs, "
        "features, tests, a review."
    )
    return DemoTurn(text, "submit_plan", plan, call_id=f"call_plan_{n_calls}")


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return str(content or "")


def _worker_turn(messages: Sequence[Mapping[str, Any]]) -> DemoTurn:
    from maestro_tui.llm.demo.edits import EditError
    from maestro_tui.llm.demo.script import TASK_SCRIPTS, resolve_script

    task_id = next(
        (
            m.group(1)
            for msg in messages
            if msg.get("role") == "user"
            if (m := _TASK_ID.search(_content(msg)))
        ),
        None,
    )
    script = TASK_SCRIPTS.get(task_id or "")
    conflicted = next(
        (m.group(1) for msg in messages if (m := _CONFLICTED.search(_content(msg)))), None
    )
    if script is not None and conflicted:
        script = resolve_script(conflicted)  # sent back to resolve a conflict: do that
    if script is None:
        summary = f"The demo model has no script for task {task_id!r}; nothing changed"
        return DemoTurn("I only know the sample repo's tasks.", "finish", {"summary": summary})
    calls: list[tuple[str, Mapping[str, Any]]] = []  # (call id, arguments) of my calls so far
    results: dict[str, str] = {}
    for msg in messages:
        if msg.get("role") == "assistant":
            for call in msg.get("tool_calls") or ():
                function = call.get("function", {})
                try:
                    args = json.loads(function.get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = {}
                calls.append((str(call.get("id")), args))
        elif msg.get("role") == "tool":
            results[str(msg.get("tool_call_id"))] = _content(msg)
    step_no = len(calls)
    if calls:
        last = results.get(calls[-1][0], "")
        if last.startswith("error:"):
            summary = f"Stopped at step {step_no} of task {task_id}: the tool said {last}"
            return DemoTurn("The tool failed, so I stop here.", "finish", {"summary": summary})
    if step_no >= len(script):
        return DemoTurn("Finished.", "finish", {"summary": f"Task {task_id} done"})
    step = script[step_no]
    call_id = f"call_{task_id}_{step_no}"
    if step.tool == "write_file":
        # The file as this worker last read it (None: a new file).
        read = [results.get(cid) for cid, a in calls if a.get("path") == step.path]
        old = next((r for r in reversed(read) if r is not None), None)
        try:
            content = step.edit(old) if step.edit else ""
        except EditError as exc:
            summary = f"Could not apply the edit to {step.path}: {exc}; nothing changed"
            return DemoTurn("The file is not as I expected.", "finish", {"summary": summary})
        candidate = _CANDIDATE.search("\n".join(_content(m) for m in messages))
        which = candidate.group(1) if candidate else "1"
        if _draw_fault(f"{task_id}:{which}:{step.path}"):
            content += FAULT_LINE  # the tests fail for real, as a careless model's would
        return DemoTurn(step.say, "write_file", step.arguments(content), call_id)
    if step.tool == "finish":
        tests = next(
            (results[c] for c, a in reversed(calls) if "command" in a and c in results), ""
        )
        tally = re.findall(r"\d+ (?:passed|failed|error)\w*", tests)
        body = step.text + (f"\n\nTests: {', '.join(tally)}" if tally else "")
        return DemoTurn(step.say, "finish", {"summary": body}, call_id)
    return DemoTurn(step.say, step.tool, step.arguments(""), call_id)


def _usage(messages: Sequence[Mapping[str, Any]], tools: Any, turn: DemoTurn) -> dict[str, int]:
    prompt = count_tokens(json.dumps(list(messages), default=str) + json.dumps(tools or []))
    completion = count_tokens(turn.text + json.dumps(turn.arguments))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _pieces(text: str, size: int) -> Iterator[str]:
    for i in range(0, len(text), size):
        yield text[i : i + size]


def stream_chunks(
    messages: Sequence[Mapping[str, Any]], tools: Any
) -> Iterator[tuple[dict[str, Any], float]]:
    """(GenericStreamingChunk, seconds to wait before it at pace 1) for one demo turn."""
    turn = respond(messages, tools or [])
    per_char = 1.0 / (TOKENS_PER_SECOND * CHARS_PER_TOKEN)

    def chunk(text: str = "", tool_use: Any = None, **extra: Any) -> dict[str, Any]:
        base = {
            "text": text,
            "tool_use": tool_use,
            "is_finished": False,
            "finish_reason": "",
            "usage": None,
            "index": 0,
        }
        return {**base, **extra}

    for piece in _pieces(turn.text, 3 * CHARS_PER_TOKEN):
        yield chunk(piece), len(piece) * per_char
    if turn.tool:
        raw = json.dumps(turn.arguments)
        head = {
            "id": turn.call_id,
            "type": "function",
            "index": 0,
            "function": {"name": turn.tool, "arguments": ""},
        }
        yield chunk(tool_use=head), 0.0
        for piece in _pieces(raw, 12 * CHARS_PER_TOKEN):
            part = {
                "id": None,
                "type": "function",
                "index": 0,
                "function": {"name": None, "arguments": piece},
            }
            yield chunk(tool_use=part), len(piece) * per_char
    finish = "tool_calls" if turn.tool else "stop"
    yield chunk(is_finished=True, finish_reason=finish, usage=_usage(messages, tools, turn)), 0.0


_installed: dict[int, Any] = {}


def install_demo_provider(litellm: Any) -> Any:
    """Register the demo provider with this litellm module (idempotent); returns the handler."""
    handler = _installed.get(id(litellm)) or _make_handler_class(litellm)()
    _installed[id(litellm)] = handler
    entries = list(litellm.custom_provider_map or [])
    if not any(e.get("custom_handler") is handler for e in entries):
        # Re-added if someone replaced the map; other providers' entries are kept.
        entries = [e for e in entries if e.get("provider") != PROVIDER]
        litellm.custom_provider_map = [*entries, {"provider": PROVIDER, "custom_handler": handler}]
    _defer_tokenizer(litellm)
    return handler


class _TokenizerOnUse:
    """Stands in for litellm's default tokenizer until something reads it.

    litellm hands a custom provider's handler the tokenizer with every call, loading
    tiktoken's cl100k tables (~39 MB) on the first; the demo handler never reads it. Any
    code that does gets the real one, loaded then.
    """

    def __getattr__(self, name: str) -> Any:
        from litellm._lazy_imports import get_default_encoding

        return getattr(get_default_encoding(), name)


def _defer_tokenizer(litellm: Any) -> None:
    # litellm.main resolves `encoding` through a module __getattr__ unless the name is set.
    main = importlib.import_module("litellm.main")
    if "encoding" not in vars(main):
        setattr(main, "encoding", _TokenizerOnUse())  # noqa: B010 - not a name mypy knows


def _make_handler_class(litellm: Any) -> type:
    from litellm.types.utils import ChatCompletionMessageToolCall, Choices, Function, Message

    def _params(kwargs: Mapping[str, Any]) -> Any:
        return (kwargs.get("optional_params") or {}).get("tools")

    def _response(model: str, messages: list[Any], kwargs: Mapping[str, Any]) -> Any:
        tools = _params(kwargs)
        turn = respond(messages, tools or [])
        calls = None
        if turn.tool:
            function = Function(name=turn.tool, arguments=json.dumps(turn.arguments))
            calls = [
                ChatCompletionMessageToolCall(id=turn.call_id, type="function", function=function)
            ]
        message = Message(content=turn.text, tool_calls=calls)
        finish = "tool_calls" if calls else "stop"
        return litellm.ModelResponse(
            model=f"{PROVIDER}/{model}",
            choices=[Choices(index=0, finish_reason=finish, message=message)],
            usage=litellm.Usage(**_usage(messages, tools, turn)),
        )

    class DemoProvider(litellm.CustomLLM):  # type: ignore[misc]
        """The demo model, served through litellm's own call path."""

        def completion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
            return _response(model, messages, kwargs)

        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Any:
            return _response(model, messages, kwargs)

        def streaming(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Iterator[Any]:
            for item, _delay in stream_chunks(messages, _params(kwargs)):
                yield item

        async def astreaming(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> AsyncIterator[Any]:
            pace = demo_pace()
            for item, delay in stream_chunks(messages, _params(kwargs)):
                if pace and delay:
                    await asyncio.sleep(delay * pace)
                yield item

    return DemoProvider
