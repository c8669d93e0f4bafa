"""The whole command line: the top-level flags, the launcher (no command), `serve` (which serves
any of the others), and every command of the groups beside this module, in the help's order."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from maestro_tui import __version__
from maestro_tui.cli import background, continuing, history, repository, reviewing, starting
from maestro_tui.cli.command import Command, db_arg, db_path

DESCRIPTION = """maestro-tui: run many AI coding agents in parallel on one git repository.

Exit codes: 0 all merged, 1 a task failed, 2 bad input, 3 merges wait for review,
130 interrupted (resume it with `maestro-tui resume RUN_ID`).
"""

# The order `maestro-tui --help` lists the commands in.
HELP_ORDER = (
    "init", "doctor", "run", "plan", "workflows", "demo", "runs", "rerun", "compare", "stats",
    "merges", "approve", "reject", "retry", "resolve", "say", "resume", "replan", "replay",
    "watch", "attach", "stop", "serve", "land", "mcp", "gc", "engine",
)  # fmt: skip


async def _launcher(args: argparse.Namespace) -> int:
    """No command: the launcher, a goal form beside the history of past runs; the runs it
    starts go on in the background."""
    from maestro_tui.ui.entry import run_launcher

    return await run_launcher(db_path(args), Path(os.getcwd()), detach=True)


def _serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    p.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    p.add_argument(
        "--token",
        help="the URL's secret (default: a random one; required with a non-loopback --host;"
        " MAESTRO_TUI_SERVE_TOKEN keeps it out of the process list)",
    )
    p.add_argument("app", nargs=argparse.REMAINDER, help="-- and the maestro-tui command to serve")
    db_arg(p)


async def _serve(args: argparse.Namespace) -> int:
    from maestro_tui.web.serve import serve

    return await serve(args.app, args.host, args.port, args.token, args.db, build_parser())


SERVE = Command(
    "serve",
    "the TUI in a browser (textual-serve): maestro-tui serve [-- COMMAND ARGS…]",
    _serve_arguments,
    _serve,
    description="Serve maestro-tui (the launcher, or the COMMAND after --) to a browser."
    " The URL to open, with its token, is printed at start.",
)

GROUPS = (
    repository.COMMANDS,
    starting.COMMANDS,
    history.COMMANDS,
    reviewing.COMMANDS,
    continuing.COMMANDS,
    background.COMMANDS,
    (SERVE,),
)


def build_parser() -> argparse.ArgumentParser:
    """The complete parser; each command's sub-parser carries its handler (`args.handler`)."""
    parser = argparse.ArgumentParser(
        prog="maestro-tui",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"maestro-tui {__version__}")
    parser.add_argument(
        "--db", type=Path, dest="db_first", metavar="FILE", help="SQLite file of run history"
    )
    parser.set_defaults(handler=_launcher)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    table = {command.name: command for group in GROUPS for command in group}
    for name in HELP_ORDER:
        table.pop(name).add_to(sub)
    assert not table, f"put these commands in HELP_ORDER: {sorted(table)}"
    return parser
