"""`maestro-tui mcp`: the tools served over stdio with the MCP SDK's low-level Server.

The low-level Server takes the hand-written schemas as they are and lets `Tools.call` check
arguments with messages an agent can act on. The SDK's stdio transport moves file descriptor 1
aside while it serves, so nothing a test command or git prints can corrupt the protocol.
SIGTERM, SIGINT and the client closing stdin all end the session the same way: runs still
going are paused (resumable), the session's record is finished, the store flushed.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from maestro_tui import __version__
from maestro_tui.mcp_server.fleet import Fleet
from maestro_tui.mcp_server.schemas import TOOLS
from maestro_tui.mcp_server.session import McpSession
from maestro_tui.mcp_server.tools import Tools

INSTRUCTIONS = """\
maestro gives you other models' advice, ensembles, selection by tests, packed context, a \
five-stage workflow with coordination budgets, and fleets of agents that work in git worktrees. \
Rules, from measured results on agent systems:
- You stay in charge and run every tool; the models you consult give text advice only.
- Follow the stages with maestro_run_stage: analyze → hypothesize → implement → debug → improve. \
Each stage has a budget of consults and ensembles; a call over it is refused with the budget.
- Skip ensembles when you are confident; they are for comparing answers (hypotheses, \
improvements), not for implementing or debugging.
- Always select with tests: maestro_select_best runs the test command on diff candidates.
- Keep coordination overhead under budget: maestro_get_metrics shows O%, Ec and the cost."""


def tool_list() -> list[types.Tool]:
    return [
        types.Tool(name=t.name, description=t.description, input_schema=t.schema) for t in TOOLS
    ]


def client_name(ctx: Any) -> str:
    """The calling agent's name from the handshake, if it gave one."""
    params = getattr(ctx.session, "client_params", None)
    info = getattr(params, "client_info", None)
    return str(getattr(info, "name", "") or "")


def make_server(repo: Path, db_path: Path) -> tuple[Server[Any], McpSession, Fleet]:
    """The MCP server for one repository, with its session and fleet (not yet recorded)."""
    session = McpSession(repo, db_path)
    fleet = Fleet(session)
    tools = Tools(session, fleet)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if not session.opened and not session.client:
            session.client = client_name(ctx)
        text, data, failed = await tools.call(params.name, params.arguments)
        return types.CallToolResult(
            content=[types.TextContent(text=text)],
            structured_content=data or None,
            is_error=failed,
        )

    server: Server[Any] = Server(
        "maestro",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    return server, session, fleet


async def serve(repo: Path, db_path: Path) -> int:
    """Serve on stdin/stdout until the client goes away or a signal asks us to stop."""
    server, session, fleet = make_server(repo, db_path)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    serving = loop.create_task(run(), name="maestro-mcp")
    stopping = loop.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (serving, stopping):
            task.cancel()
        await asyncio.gather(serving, stopping, return_exceptions=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await fleet.close()
        await session.close()
    return 0
