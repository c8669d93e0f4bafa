"""Commands that take a recorded run further: resume, retry, resolve, replan, say."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from maestro_tui.cli.command import (
    Command,
    budget_args,
    db_arg,
    db_path,
    detached,
    foreground_arg,
    output,
    output_args,
    wants_tui,
)


async def _reopen(
    args: argparse.Namespace,
    *,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
) -> int:
    """The run taken up again where it stopped: in the dashboard, or printed."""
    db = db_path(args)
    first: dict[str, Any] = {
        "max_agents": max_agents,
        "budgets": budgets if budgets is not None else {},
        "retry_task": retry_task,
        "resolve_task": resolve_task,
    }
    if wants_tui(args):
        from maestro_tui.ui.entry import run_resume

        return await run_resume(db, args.run_id, detach=detached(args), **first)
    from maestro_tui.headless.run import resume_run

    return await resume_run(db, args.run_id, output(args), **first)


def _resume_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--agents", type=int)
    budget_args(p)
    p.add_argument("--headless", action="store_true")
    foreground_arg(p)
    db_arg(p)
    output_args(p)


async def _resume(args: argparse.Namespace) -> int:
    budgets = {"usd": args.budget_usd, "tokens": args.budget_tokens}
    return await _reopen(args, max_agents=args.agents, budgets=budgets)


RESUME = Command("resume", "finish a run that was interrupted", _resume_arguments, _resume)


def _waiting_task_arguments(p: argparse.ArgumentParser) -> None:
    """A run and one of its tasks whose result waits for a human."""
    p.add_argument("run_id")
    p.add_argument("task")
    p.add_argument("--headless", action="store_true")
    foreground_arg(p)
    db_arg(p)
    output_args(p)


async def _retry(args: argparse.Namespace) -> int:
    return await _reopen(args, retry_task=args.task)


RETRY = Command(
    "retry",
    "drop a waiting result and run its task again on the current branch",
    _waiting_task_arguments,
    _retry,
)


async def _resolve(args: argparse.Namespace) -> int:
    return await _reopen(args, resolve_task=args.task)


RESOLVE = Command(
    "resolve",
    "hand a waiting conflict to its task's agent, then go on with the run",
    _waiting_task_arguments,
    _resolve,
)


def _replan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("--yes", action="store_true", help="run the new plan without asking")
    db_arg(p)
    output_args(p)


async def _replan(args: argparse.Namespace) -> int:
    from maestro_tui.headless.replan import replan_run

    return await replan_run(db_path(args), args.run_id, output(args), yes=args.yes)


REPLAN = Command(
    "replan",
    "a new plan of what a run has left (after a task failed for good, a rejection,"
    " or 80 %% of the budget), reviewed, then run",
    _replan_arguments,
    _replan,
)


def _say_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id")
    p.add_argument("task")
    p.add_argument("message")
    db_arg(p)


async def _say(args: argparse.Namespace) -> int:
    from maestro_tui.headless.say import say

    return await say(db_path(args), args.run_id, args.task, args.message, output(args))


SAY = Command("say", "tell a running agent something, without stopping it", _say_arguments, _say)

COMMANDS = (RESUME, RETRY, RESOLVE, REPLAN, SAY)
