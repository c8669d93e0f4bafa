"""Models layer: LLMClient overhead per call, and 64 concurrent demo workers.

1. Client overhead: streamed calls against a loopback OpenAI-compatible server (a separate
   process, so its CPU is not ours), through `LLMClient.complete` and, in the same run, through
   bare `litellm.acompletion` with the same parameters, the stream drained. Ratio printed;
   target ≤ 1.2× (our loop adds assembly, cost and callbacks, no extra round trip).
2. 64 LLMWorkers at once on the demo model at its watchable pace (MAESTRO_DEMO_PACE=1), each
   on its own copy of the sample repo, running a first-layer task (read, write, pytest,
   finish). Reported: wall time, this process's CPU % and peak RSS (target < 300 MB).

Run: `python -m bench.bench_llm` (or `make bench`).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CALLS = 400  # per path
BLOCK = 5
WORKERS = 64
RSS_TARGET_MB = 300
RATIO_TARGET = 1.2
REPLY = "A short streamed answer of about twenty tokens, split into several chunks for realism."


def _serve(port: int) -> None:
    """A minimal streaming chat server: a fixed answer in 8 chunks, then usage, then [DONE]."""
    base = {"id": "b", "object": "chat.completion.chunk", "created": 1, "model": "bench"}
    pieces = [REPLY[i : i + 12] for i in range(0, len(REPLY), 12)]
    events = [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ],
        }
    ]
    events += [
        {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
        for p in pieces
    ]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append(
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 20, "completion_tokens": 20, "total_tokens": 40},
        }
    )
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    body += b"data: [DONE]\n\n"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add ~40 ms per call

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_now_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _raw_http(api_base: str) -> float:
    """The floor: the same streamed request with plain httpx, no litellm."""
    import httpx

    url = f"{api_base}/chat/completions"
    payload = {"model": "bench", "messages": [{"role": "user", "content": "hello"}]}
    async with httpx.AsyncClient() as http:
        started = time.perf_counter()
        for _ in range(CALLS):
            async with http.stream("POST", url, json=payload) as response:
                async for _line in response.aiter_lines():
                    pass
        return (time.perf_counter() - started) / CALLS


async def _overhead(api_base: str) -> tuple[float, float]:
    from maestro_tui.llm.client import LLMClient, import_litellm

    litellm = import_litellm()
    messages = [{"role": "user", "content": "hello"}]
    client = LLMClient(
        "openai/bench",
        api_base=api_base,
        api_key="sk-bench",
        prices={"openai/bench": (1.0, 2.0)},
        on_usage=lambda c: None,
    )

    async def bare() -> None:
        stream = await litellm.acompletion(
            model="openai/bench",
            messages=messages,
            api_base=api_base,
            api_key="sk-bench",
            stream=True,
            stream_options={"include_usage": True},
            max_retries=0,
            timeout=30,
            drop_params=True,
        )
        async for _chunk in stream:
            pass

    async def ours() -> None:
        await client.complete(messages)

    for _ in range(10):  # warm both paths: imports, connection setup
        await bare()
        await ours()
    # Short interleaved blocks and medians: other work on a shared machine hits both alike.
    blocks: dict[str, list[float]] = {"bare": [], "ours": []}
    for _ in range(CALLS // BLOCK):
        for name, call in (("bare", bare), ("ours", ours)):
            started = time.perf_counter()
            for _ in range(BLOCK):
                await call()
            blocks[name].append((time.perf_counter() - started) / BLOCK)
    return statistics.median(blocks["bare"]), statistics.median(blocks["ours"])


class _CountingReporter:
    def __init__(self) -> None:
        self.lines = 0
        self.calls = 0
        self.tools = 0

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines += 1

    def usage(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1

    def tool(self, *args: Any, **kwargs: Any) -> None:
        self.tools += 1

    def finding(self, text: str) -> None:
        return

    def file_changed(self, path: str, change: str = "modified") -> None:
        return

    def session(self, session_id: str, resumed: bool = False) -> None:
        return

    def waiting(self, reason: str, retry_in_s: float) -> None:
        return

    def stalled(self, silent_s: float) -> None:
        return


async def _many_workers(root: Path) -> dict[str, float]:
    from maestro_tui.agents.base import WorkerJob
    from maestro_tui.domain.plan import parse_plan
    from maestro_tui.llm.client import LLMClient, import_litellm
    from maestro_tui.llm.demo import copy_sample_repo
    from maestro_tui.llm.demo.script import demo_plan
    from maestro_tui.llm.worker import LLMWorker

    import_litellm()
    plan = parse_plan(demo_plan())
    first_layer = [t for t in plan.tasks if not t.depends_on]
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    jobs = []
    for n in range(WORKERS):
        repo = copy_sample_repo(root / f"repo-{n:02d}")
        task = first_layer[n % len(first_layer)]
        jobs.append(WorkerJob(run_id="bench", task=task, attempt=1, worktree=repo, env=env))
    worker = LLMWorker(client_factory=lambda: LLMClient("demo/coder"), allowed_commands=["python"])
    reporter = _CountingReporter()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(worker.run(job, reporter) for job in jobs))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    passed = sum("passed" in r.summary and "failed" not in r.summary for r in results)
    return {
        "wall": wall,
        "cpu": cpu,
        "passed": passed,
        "calls": reporter.calls,
        "lines": reporter.lines,
    }


def main() -> None:
    os.environ["MAESTRO_DEMO_PACE"] = "1"
    port = _free_port()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        time.sleep(0.3)
        raw = asyncio.run(_raw_http(f"http://127.0.0.1:{port}/v1"))
        bare, ours = asyncio.run(_overhead(f"http://127.0.0.1:{port}/v1"))
        rss_litellm = _rss_now_mb()
    finally:
        server.terminate()
        server.join()
    ratio = ours / bare
    print(
        f"client overhead: LLMClient {ours * 1e3:.2f} ms/call, bare litellm.acompletion "
        f"{bare * 1e3:.2f} ms/call (streamed; medians of {CALLS // BLOCK} interleaved blocks "
        f"of {BLOCK} calls) -> ratio "
        f"{ratio:.2f}x (target <= {RATIO_TARGET}x) {'OK' if ratio <= RATIO_TARGET else 'SLOW'}"
    )
    print(
        f"(floor: plain httpx streaming {raw * 1e3:.2f} ms/call; litellm's own per-call cost "
        f"is the rest)"
    )
    with tempfile.TemporaryDirectory(prefix="maestro-bench-llm-") as tmp:
        figures = asyncio.run(_many_workers(Path(tmp)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{WORKERS} demo workers at pace 1: {figures['wall']:.1f} s wall, "
        f"{figures['calls']:.0f} model calls, {figures['lines']:.0f} log lines, "
        f"{figures['passed']:.0f}/{WORKERS} finished with passing tests"
    )
    print(
        f"orchestrator process: CPU {100 * figures['cpu'] / figures['wall']:.0f}% of one core, "
        f"peak RSS {rss_mb:.0f} MB (target < {RSS_TARGET_MB} MB) "
        f"{'OK' if rss_mb < RSS_TARGET_MB else 'OVER'}; {rss_litellm:.0f} MB of it is litellm, "
        "imported and warm, before any worker"
    )


if __name__ == "__main__":
    main()
