"""LLMClient against a loopback OpenAI-compatible server, through the real litellm path."""

from __future__ import annotations

import json
import socket
import traceback

import pytest

from maestro_tui.llm.client import Completion, LLMClient, LLMError, price_per_mtok, redact
from maestro_tui.llm.tools import TOOL_SCHEMAS
from tests.llm.conftest import API_KEY
from tests.llm.fakeserver import FakeChatServer, Reply

MESSAGES = [{"role": "user", "content": "hello"}]


def make_client(server: FakeChatServer, **kwargs: object) -> LLMClient:
    options: dict[str, object] = {
        "api_base": server.api_base,
        "api_key": API_KEY,
        "backoff_s": 0.01,
        "timeout_s": 5,
    }
    options.update(kwargs)
    return LLMClient("openai/fake-model", **options)  # type: ignore[arg-type]


async def test_streams_text_fragments_in_order(server: FakeChatServer) -> None:
    server.script(Reply(text="The quick brown fox jumps.", chunk_chars=4))
    fragments: list[str] = []
    completion = await make_client(server).complete(MESSAGES, on_text=fragments.append)
    assert completion.text == "The quick brown fox jumps."
    assert len(fragments) > 3 and "".join(fragments) == completion.text
    body = server.requests[0]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == MESSAGES


async def test_nothing_of_litellm_is_left_running_when_a_call_returns(
    server: FakeChatServer,
) -> None:
    import asyncio

    server.script(Reply(text="done"))
    before = asyncio.all_tasks()
    await make_client(server).complete(MESSAGES)
    left = [
        t.get_coro()
        for t in asyncio.all_tasks() - before
        if not t.done()
        and "litellm" in getattr(t.get_coro(), "cr_code", compile("", "", "exec")).co_filename
    ]
    assert left == []  # its logging task was waited for, and counted in the call's latency


async def test_assembles_streamed_tool_call_deltas(server: FakeChatServer) -> None:
    args = {"path": "pkg/a.py", "content": "x = 1\n" * 20}
    server.script(
        Reply(text="Writing.", tool_calls=[("write_file", args), ("finish", {"summary": "s"})])
    )
    completion = await make_client(server).complete(MESSAGES, tools=TOOL_SCHEMAS)
    assert [c.name for c in completion.tool_calls] == ["write_file", "finish"]
    assert completion.tool_calls[0].arguments == args
    assert completion.tool_calls[0].id == "call_0"
    assert [t["function"]["name"] for t in server.requests[0]["tools"]][0] == "list_files"


async def test_malformed_tool_arguments_become_an_error_string(server: FakeChatServer) -> None:
    server.script(Reply(tool_calls=[("read_file", '{"path": "a.py"')]))
    completion = await make_client(server).complete(MESSAGES, tools=TOOL_SCHEMAS)
    arguments = completion.tool_calls[0].arguments
    assert isinstance(arguments, str) and "not valid JSON" in arguments


async def test_usage_comes_from_the_final_chunk_and_reaches_on_usage(
    server: FakeChatServer,
) -> None:
    seen: list[Completion] = []
    server.script(Reply(text="hi", usage=(1234, 56)), Reply(text="again", usage=(10, 2)))
    client = make_client(server, on_usage=seen.append)
    first = await client.complete(MESSAGES)
    await client.complete(MESSAGES)
    assert (first.tokens_in, first.tokens_out) == (1234, 56)
    assert [c.tokens_in for c in seen] == [1234, 10]
    assert first.latency_s > 0 and first.simulated is False


async def test_cost_uses_configured_price_for_an_unknown_model(server: FakeChatServer) -> None:
    server.script(Reply(text="hi", usage=(1_000, 500)))
    client = make_client(server, prices={"openai/fake-model": (3.0, 15.0)})
    completion = await client.complete(MESSAGES)
    assert completion.cost_usd == pytest.approx((1_000 * 3.0 + 500 * 15.0) / 1e6)


async def test_cost_is_none_when_the_model_is_unpriced(server: FakeChatServer) -> None:
    server.script(Reply(text="hi", usage=(1_000, 500)))
    completion = await make_client(server).complete(MESSAGES)
    assert completion.cost_usd is None


def test_known_models_are_priced_from_litellms_bundled_map() -> None:
    price = price_per_mtok("gpt-4o-mini")
    assert price is not None and price[0] > 0 and price[1] > price[0]
    assert price_per_mtok("openai/no-such-model-xyz") is None
    assert price_per_mtok("gpt-4o-mini", {"gpt-4o-mini": (1.0, 2.0)}) == (1.0, 2.0)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_retries_transient_errors_then_succeeds(server: FakeChatServer, status: int) -> None:
    retries: list[tuple[int, float, str]] = []
    server.script(Reply(status=status), Reply(status=status), Reply(text="finally"))
    client = make_client(server, on_retry=lambda n, d, why: retries.append((n, d, why)))
    completion = await client.complete(MESSAGES)
    assert completion.text == "finally"
    assert len(server.requests) == 3
    assert [n for n, _, _ in retries] == [1, 2]
    assert retries[1][1] > retries[0][1]  # exponential backoff
    assert str(status) in retries[0][2]


async def test_gives_up_after_max_retries_with_a_clear_error(server: FakeChatServer) -> None:
    server.script(*[Reply(status=429) for _ in range(5)])
    with pytest.raises(LLMError, match=r"gave up after 3 attempts.*RateLimitError"):
        await make_client(server, max_retries=2).complete(MESSAGES)
    assert len(server.requests) == 3


async def test_does_not_retry_a_bad_request(server: FakeChatServer) -> None:
    server.script(Reply(status=400), Reply(text="never"))
    with pytest.raises(LLMError, match="BadRequestError"):
        await make_client(server).complete(MESSAGES)
    assert len(server.requests) == 1


async def test_a_slow_server_times_out_and_is_retried(server: FakeChatServer) -> None:
    server.script(Reply(text="late", delay_s=1.5), Reply(text="on time"))
    completion = await make_client(server, timeout_s=0.5).complete(MESSAGES)
    assert completion.text == "on time"
    assert len(server.requests) == 2


async def test_timeout_without_retries_is_an_llm_error(server: FakeChatServer) -> None:
    server.script(Reply(text="late", delay_s=1.5))
    with pytest.raises(LLMError, match="gave up after 1 attempts"):
        await make_client(server, timeout_s=0.3, max_retries=0).complete(MESSAGES)


async def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LLMClient(
        "openai/fake-model",
        api_base=f"http://127.0.0.1:{port}/v1",
        api_key=API_KEY,
        max_retries=1,
        backoff_s=0.01,
        timeout_s=5,
    )
    # litellm reports a refused connection as InternalServerError("Connection error").
    with pytest.raises(LLMError, match=r"gave up after 2 attempts.*Connection error"):
        await client.complete(MESSAGES)


async def test_the_api_key_never_appears_in_errors(server: FakeChatServer) -> None:
    message = f"Incorrect API key provided: {API_KEY}"
    echo = json.dumps({"error": {"message": message, "type": "auth"}})
    server.script(Reply(status=401, error_body=echo))
    with pytest.raises(LLMError) as info:
        await make_client(server).complete(MESSAGES)
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"] == f"Bearer {API_KEY}"
    shown = "".join(traceback.format_exception(info.value))
    assert API_KEY not in shown and API_KEY not in repr(info.value)
    assert "[redacted]" in str(info.value)
    assert API_KEY not in repr(make_client(server))


def test_redact_replaces_every_secret() -> None:
    assert redact("key sk-abc123 and sk-abc123", ["sk-abc123", None, ""]) == (
        "key [redacted] and [redacted]"
    )
