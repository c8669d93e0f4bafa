"""Runs that outlive the terminal: `attach` to a run's engine, `stop` it, and `engine`, the
background process itself (started by run, demo and resume; not for use by hand)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from maestro_tui.cli.command import (
    Command,
    budget_args,
    db_arg,
    db_path,
    output,
    output_args,
    wants_tui,
)


def _attach_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_id", nargs="?", help="the run (default: the latest going run of this repository)"
    )
    p.add_argument("--headless", action="store_true", help="print its events instead")
    db_arg(p)
    output_args(p)


async def _attach(args: argparse.Namespace) -> int:
    repo = Path(os.getcwd())
    if wants_tui(args):
        from maestro_tui.ui.entry import run_attach

        return await run_attach(db_path(args), args.run_id, repo)
    from maestro_tui.headless.attach import attach_printing

    return await attach_printing(db_path(args), args.run_id, repo, output(args))


ATTACH = Command(
    "attach",
    "join a run going in the background (the dashboard); q leaves it going",
    _attach_arguments,
    _attach,
)


def _stop_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "run_id", nargs="?", help="the run (default: the latest going run of this repository)"
    )
    db_arg(p)


async def _stop(args: argparse.Namespace) -> int:
    from maestro_tui.headless.attach import stop_run

    return await stop_run(db_path(args), args.run_id, Path(os.getcwd()), output(args))


STOP = Command(
    "stop",
    "pause a run where it is, from anywhere (it can be resumed)",
    _stop_arguments,
    _stop,
)


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--new", action="store_true", help="a run just recorded (not a resume)")
    p.add_argument("--agents", type=int)
    budget_args(p)
    p.add_argument("--retry-task", metavar="TASK")
    p.add_argument("--resolve-task", metavar="TASK")
    db_arg(p)
    output_args(p)


async def _engine(args: argparse.Namespace) -> int:
    from maestro_tui.headless.engine import serve_engine

    return await serve_engine(
        db_path(args),
        args.run_id,
        output(args),
        new=args.new,
        max_agents=args.agents,
        budgets={"usd": args.budget_usd, "tokens": args.budget_tokens},
        retry_task=args.retry_task,
        resolve_task=args.resolve_task,
    )


ENGINE = Command(
    "engine",
    "the background process that drives a run (started by run, demo and resume)",
    _engine_arguments,
    _engine,
)

COMMANDS = (ATTACH, STOP, ENGINE)
