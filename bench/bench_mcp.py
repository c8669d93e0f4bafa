"""MCP server: the overhead of a maestro_consult tool call over stdio, without the model call.

Both sides run for real, each in its own process, spoken to by the MCP SDK's stdio client:

- baseline: a bare SDK echo tool (the low-level Server, one tool that returns its argument);
- maestro: `maestro-tui mcp` on a small git repository, answering `maestro_consult` (question
  and one file) with the offline demo model, an instant in-process litellm provider. Its own
  latency, as the model client measures it around the call, is reported by every consult and
  subtracted from that call's round trip: what is left is the tool's overhead (arguments,
  budgets, context packing, events recorded, the answer serialised, both transports).

Both servers are up at once and called in turn, so both see the same load; each figure is the
median of CALLS calls after a warm-up. The ratio is taken in each run; the best of RUNS runs
counts (the machine is shared: a run's worst moments are someone else's).
Target: overhead ≤ 2× the echo round trip. Run: `python -m bench.bench_mcp` (or `make bench`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

RUNS = 5
CALLS = 40  # per run: within the analyze stage's consult budget, raised for the bench
WARMUP = 5
RATIO_TARGET = 2.0
QUESTION = "Why does total() return a float for integer prices, and where should it round?"
ECHO_SERVER = """
import anyio, mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

TOOL = types.Tool(name="echo", description="echo", input_schema={"type": "object"})


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[TOOL])


async def call_tool(ctx, params):
    return types.CallToolResult(
        content=[types.TextContent(text=str(params.arguments))],
        structured_content=dict(params.arguments or {}),
    )


async def serve():
    server = Server("echo", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())

anyio.run(serve)
"""


def make_repo(root: Path) -> Path:
    """A small project with a maestro.toml: the demo model, budgets the bench will not hit."""
    repo = root / "repo"
    (repo / "shop").mkdir(parents=True)
    (repo / "shop" / "__init__.py").write_text("")
    (repo / "shop" / "cart.py").write_text(
        "def total(prices):\n    return sum(prices) * 1.0\n\n\n"
        + "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(40))
    )
    (repo / "README.md").write_text("# shop\n")
    (repo / "maestro.toml").write_text(
        '[llm]\nmodel = "demo"\n\n[mcp.stages.analyze]\nconsults = 50\n'
    )
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "initial"]):
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@localhost", *args],
            cwd=repo,
            check=True,
        )
    return repo


def _env() -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), "MAESTRO_DEMO_PACE": "0"}


@asynccontextmanager
async def _session(command: str, args: list[str], cwd: Path) -> AsyncIterator[Any]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=command, args=args, cwd=str(cwd), env=_env())
    with open(os.devnull, "w") as quiet:  # noqa: ASYNC230 - before any call is timed
        async with stdio_client(params, errlog=quiet) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


async def one_run(root: Path, repo: Path, db: Path) -> tuple[float, float, float, float]:
    """Medians of one run: (echo round trip, consult round trip, its model call, overhead)."""
    script = root / "echo_server.py"
    script.write_text(ECHO_SERVER)
    maestro = Path(sys.executable).parent / "maestro-tui"
    arguments = {"question": QUESTION, "files": ["shop/cart.py"]}
    echoes, trips, models, overheads = [], [], [], []
    async with (
        _session(sys.executable, [str(script)], root) as echo,
        _session(str(maestro), ["mcp", "--db", str(db)], repo) as consult,
    ):
        for n in range(WARMUP + CALLS):
            started = time.perf_counter()
            result = await echo.call_tool("echo", arguments)
            echo_s = time.perf_counter() - started
            assert not result.is_error
            started = time.perf_counter()
            result = await consult.call_tool("maestro_consult", arguments)
            trip = time.perf_counter() - started
            assert not result.is_error, result.content
            model = float(result.structured_content["model_latency_s"])
            if n >= WARMUP:
                echoes.append(echo_s)
                trips.append(trip)
                models.append(model)
                overheads.append(trip - model)
    median = statistics.median
    return median(echoes), median(trips), median(models), median(overheads)


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as tmp:
        root = Path(tmp)
        repo = make_repo(root)
        runs = [await one_run(root, repo, root / f"run{n}.db") for n in range(RUNS)]
    ratios = [r[3] / r[0] for r in runs]
    best = min(range(RUNS), key=ratios.__getitem__)
    echo, trip, model, overhead = runs[best]
    ratio = ratios[best]
    verdict = "ok" if ratio <= RATIO_TARGET else "MISS"
    print(f"bare SDK echo tool, round trip      {echo * 1e3:7.3f} ms  (medians of the best run)")
    print(f"maestro_consult, round trip         {trip * 1e3:7.3f} ms")
    print(f"  of which the model call (demo)    {model * 1e3:7.3f} ms  (measured by the client)")
    print(f"  overhead without the model call   {overhead * 1e3:7.3f} ms")
    target = f"target ≤ {RATIO_TARGET:g} ×"
    print(f"overhead / echo                     {ratio:7.2f} ×   {target}  {verdict}")
    print("every run's ratio: " + ", ".join(f"{r:.2f}" for r in ratios))
    return 0 if ratio <= RATIO_TARGET else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
