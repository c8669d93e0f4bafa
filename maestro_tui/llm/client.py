"""One streamed chat completion through litellm: text, tool calls, usage, cost, retries.

litellm is imported lazily (it costs seconds); nothing here touches it at import time.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

Prices = Mapping[str, tuple[float, float]]  # model -> (usd per 1M tokens in, out)
TextSink = Callable[[str], None]
RetrySink = Callable[[int, float, str], None]  # (attempt, delay in seconds, problem)


class LLMError(Exception):
    """A model call failed for good; the message says why and never holds an API key."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call the model made; `arguments` is a str (the parse error) when not JSON."""

    id: str
    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True)
class Completion:
    """The outcome of one model call."""

    text: str
    tool_calls: list[ToolCall]
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None: the model has no known price
    latency_s: float
    model: str
    simulated: bool = False


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each (non-trivial) secret in `text` with `[redacted]`."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def import_litellm() -> Any:
    """Import litellm offline and quiet; registers the built-in demo provider.

    LITELLM_MODE=PRODUCTION: in its default mode ("DEV") importing litellm loads the first
    `.env` file found upwards from where litellm is installed (the checkout, or the home
    directory) into the environment: keys the user never gave maestro-tui, and which the
    event scrubber, set up before this import, would not know to redact.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_MODE", "PRODUCTION")
    import litellm

    litellm.suppress_debug_info = True
    # Token counts come from the provider's streamed usage (or an estimate, _usage_counts),
    # never from litellm's own counter. litellm still ran it on every streamed call, to price
    # the stream before its first chunk: the prompt tokenized on the event loop each time,
    # and tiktoken's cl100k tables (~39 MB) loaded by the first call.
    litellm.disable_token_counter = True
    from maestro_tui.llm.demo.model import install_demo_provider

    install_demo_provider(litellm)
    return litellm


_import_lock = threading.Lock()


async def import_litellm_off_loop() -> Any:
    """import_litellm, in a thread the first time: importing it takes seconds of CPU (its
    first call loads more), and on the event loop that froze the dashboard as a run began.
    """
    if "litellm" in sys.modules and _litellm_ready:
        return import_litellm()

    def load() -> Any:
        global _litellm_ready
        with _import_lock:  # one thread imports; the others wait for it here, not the loop
            litellm = import_litellm()
            if not _litellm_ready:
                _settle_heap()
            _litellm_ready = True
            return litellm

    return await asyncio.to_thread(load)


_litellm_ready = False
_first_call_done = False


def _settle_heap() -> None:
    """Tell the garbage collector that what litellm loaded is here to stay.

    litellm leaves ~450k objects after its import and ~115k more after its first call
    (modules, its cost map, pydantic schemas), alive as long as the process. Each full
    collection walked them all: in a 200-agent run, 31 pauses of 280 ms (p50) on the event
    loop, the dashboard frozen meanwhile. gc.freeze() moves every object alive now out of
    the collector's reach; refcounting still frees them, only cycles among them would stay,
    so the garbage among them is collected first (one pause, instead of one per collection).
    """
    gc.collect()
    gc.freeze()


def price_per_mtok(model: str, prices: Prices | None = None) -> tuple[float, float] | None:
    """(usd per 1M tokens in, out) for `model`: configured, demo, then litellm's map."""
    from maestro_tui.llm.demo.model import SIMULATED_PRICE, is_demo_model

    if prices and model in prices:
        p_in, p_out = prices[model]
        return float(p_in), float(p_out)
    if is_demo_model(model):
        return SIMULATED_PRICE
    litellm = import_litellm()
    try:
        c_in, c_out = litellm.cost_per_token(
            model=model, prompt_tokens=1_000_000, completion_tokens=1_000_000
        )
    except Exception:  # litellm raises for models it has no price for
        return None
    return float(c_in), float(c_out)


def cost_usd(model: str, tokens_in: int, tokens_out: int, prices: Prices | None) -> float | None:
    """What a call cost, or None when the model's price is unknown (never a silent 0)."""
    price = price_per_mtok(model, prices)
    if price is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000


_RETRYABLE_NAMES = (
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "Timeout",
    "APIConnectionError",
)


class _IdleTimeout(Exception):
    """No chunk arrived within the timeout."""


class LLMClient:
    """Streams chat completions through litellm, with visible retries and cost accounting.

    Configured `prices` win over litellm's bundled price map: an explicit price is what the
    user wants to be charged against their budget.
    """

    def __init__(
        self,
        model: str,
        api_base: str | None = None,
        api_key: str | None = None,
        prices: Prices | None = None,
        timeout_s: float = 120,
        max_retries: int = 3,
        on_usage: Callable[[Completion], None] | None = None,
        on_retry: RetrySink | None = None,
        backoff_s: float = 1.0,
    ) -> None:
        self.model = model
        self.api_base = api_base
        self._api_key = api_key
        self.prices = dict(prices or {})
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.on_usage = on_usage
        self.on_retry = on_retry
        self.backoff_s = backoff_s

    def __repr__(self) -> str:
        return f"LLMClient(model={self.model!r}, api_base={self.api_base!r})"

    def redact(self, text: str) -> str:
        return redact(text, [self._api_key])

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
        on_text: TextSink | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        on_retry: RetrySink | None = None,
    ) -> Completion:
        """One completion, streamed; retried with backoff on 429, 5xx, timeouts, disconnects.

        Each retry is told to `on_retry(attempt, delay_s, problem)` (this call's, then the
        client's). Text streamed before a failure is not taken back: a retry streams anew.
        """
        litellm = await import_litellm_off_loop()
        retryable = tuple(getattr(litellm, n) for n in _RETRYABLE_NAMES if hasattr(litellm, n))
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                completion = await self._once(litellm, messages, tools, on_text, tool_choice)
            except (*retryable, _IdleTimeout) as exc:
                problem = self._describe(exc)
                if attempt >= self.max_retries:
                    raise LLMError(
                        f"{self.model}: gave up after {attempt + 1} attempts: {problem}"
                    ) from None
                delay = self.backoff_s * (2**attempt) * (1 + random.random() * 0.5)
                attempt += 1
                for sink in (on_retry, self.on_retry):
                    if sink:
                        sink(attempt, delay, problem)
                await asyncio.sleep(delay)
                continue
            except LLMError:
                raise
            except Exception as exc:  # auth, bad request, unknown model: no point retrying
                # `from None`: the original may quote the key; our message is redacted.
                raise LLMError(f"{self.model}: {self._describe(exc)}") from None
            completion = _with_latency(completion, time.monotonic() - started)
            if self.on_usage:
                self.on_usage(completion)
            return completion

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, _IdleTimeout):
            return f"timed out: no response within {self.timeout_s:g}s"
        status = getattr(exc, "status_code", None)
        text = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
        detail = str(exc).strip()
        if detail:
            text += f": {detail[:500]}"
        return self.redact(text)

    async def _once(
        self,
        litellm: Any,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None,
        on_text: TextSink | None,
        tool_choice: str | Mapping[str, Any] | None,
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": self.timeout_s,
            "max_retries": 0,  # our loop retries, visibly
            "drop_params": True,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        if tools:
            kwargs["tools"] = list(tools)
            if tool_choice is not None:
                kwargs["tool_choice"] = tool_choice
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage: Any = None
        loop = asyncio.get_running_loop()
        before = asyncio.all_tasks()
        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                stream = await litellm.acompletion(**kwargs)
                async for chunk in stream:
                    # An idle timeout: each chunk gives the stream another timeout_s.
                    deadline.reschedule(loop.time() + self.timeout_s)
                    usage = _absorb(chunk, text, calls, on_text) or usage
        except TimeoutError:
            raise _IdleTimeout() from None
        await _litellm_follow_ups(before)
        global _first_call_done
        if not _first_call_done:  # the first call loaded the rest of litellm
            _first_call_done = True
            _settle_heap()
        full_text = "".join(text)
        tool_calls = [_tool_call(i, calls[i]) for i in sorted(calls)]
        tokens_in, tokens_out = _usage_counts(usage, messages, full_text, calls.values())
        from maestro_tui.llm.demo.model import is_demo_model

        return Completion(
            text=full_text,
            tool_calls=tool_calls,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd(self.model, tokens_in, tokens_out, self.prices),
            latency_s=0.0,
            model=self.model,
            simulated=is_demo_model(self.model),
        )


async def _litellm_follow_ups(before: set[asyncio.Task[Any]]) -> None:
    """Wait for the task litellm starts when a stream ends, to log the call (~0.6 ms of CPU).

    It is the call's own work: waited for here, it is counted in the call's latency and not
    in whatever the caller does next, and it cannot be cut off half-way when the loop closes.
    """
    current = asyncio.current_task()
    started = [
        t
        for t in asyncio.all_tasks() - before
        if t is not current
        and _LITELLM_DIR in getattr(t.get_coro(), "cr_code", _NO_CODE).co_filename
    ]
    if started:
        await asyncio.wait(started, timeout=FOLLOW_UP_TIMEOUT_S)


FOLLOW_UP_TIMEOUT_S = 2.0
_LITELLM_DIR = f"{os.sep}litellm{os.sep}"
_NO_CODE = compile("", "", "exec")


def _absorb(
    chunk: Any, text: list[str], calls: dict[int, dict[str, str]], on_text: TextSink | None
) -> Any:
    """Add one streamed chunk's text and tool-call deltas; return its usage, if it has one."""
    for choice in chunk.choices or ():
        delta = choice.delta
        if delta is None:
            continue
        if delta.content:
            text.append(delta.content)
            if on_text:
                on_text(delta.content)
        for call in delta.tool_calls or ():
            slot = calls.setdefault(call.index or 0, {"id": "", "name": "", "args": ""})
            if call.id:
                slot["id"] = call.id
            if call.function is not None:
                if call.function.name:
                    slot["name"] += call.function.name
                if call.function.arguments:
                    slot["args"] += call.function.arguments
    return getattr(chunk, "usage", None)


def _tool_call(index: int, slot: Mapping[str, str]) -> ToolCall:
    raw = slot["args"].strip() or "{}"
    arguments: dict[str, Any] | str
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        arguments = f"arguments are not valid JSON ({exc.msg} at char {exc.pos}): {raw[:200]}"
    else:
        if isinstance(parsed, dict):
            arguments = parsed
        else:
            arguments = f"arguments must be a JSON object, got {type(parsed).__name__}"
    return ToolCall(id=slot["id"] or f"call_{index}", name=slot["name"], arguments=arguments)


def _usage_counts(
    usage: Any,
    messages: Sequence[Mapping[str, Any]],
    text: str,
    calls: Iterable[Mapping[str, str]],
) -> tuple[int, int]:
    if usage is not None:
        return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)
    # The provider sent no usage: estimate (~4 characters a token) rather than report 0.
    chars_in = sum(len(json.dumps(m, default=str)) for m in messages)
    chars_out = len(text) + sum(len(c["name"]) + len(c["args"]) for c in calls)
    return max(1, chars_in // 4), max(1, chars_out // 4) if chars_out else 0


def _with_latency(completion: Completion, latency_s: float) -> Completion:
    return replace(completion, latency_s=latency_s)
