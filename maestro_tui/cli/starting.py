"""Commands that plan or start a new run: run, plan, demo, rerun."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from maestro_tui.cli.command import (
    Command,
    budget_args,
    db_arg,
    db_path,
    detached,
    executor_arg,
    foreground_arg,
    model_args,
    output,
    output_args,
    red_base_question,
    wants_tui,
)


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("goal", nargs="?", help="what to achieve (the planner model makes the plan)")
    p.add_argument("--plan", type=Path, help="a plan file (TOML or JSON) instead of a goal")
    p.add_argument("--inbox", type=Path, help="a folder of issue files (.md, GitHub .json)")
    p.add_argument("--workflow", help="expand a workflow (see maestro-tui workflows)")
    p.add_argument(
        "--classify-with-model", action="store_true", help="route inbox items with the model"
    )
    p.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    p.add_argument(
        "--base", help="branch or commit the run starts from (default: the current branch)"
    )
    p.add_argument("--config", type=Path, help="maestro.toml to use (default: REPO/maestro.toml)")
    p.add_argument("--headless", action="store_true", help="print events instead of the TUI")
    foreground_arg(p)
    p.add_argument("--agents", type=int, help="how many agents run at once")
    p.add_argument("--merge", choices=("auto", "review"), help="merge policy")
    p.add_argument("--yes", "-y", action="store_true", help="start without reviewing the plan")
    p.add_argument(
        "--allow-red-base",
        action="store_true",
        help="go on when the base's own tests fail (they are then charged to no task)",
    )
    executor_arg(p)
    model_args(p)
    budget_args(p)
    db_arg(p)
    output_args(p)


async def _run(args: argparse.Namespace) -> int:
    from maestro_tui.config import load_config
    from maestro_tui.domain.plan import load_plan
    from maestro_tui.session.inputs import UserError
    from maestro_tui.workspace.repo import Workspace

    tui = wants_tui(args)
    if args.plan is None and args.inbox is None and not args.workflow and not args.goal:
        raise UserError("give a goal, a plan file (--plan), an inbox (--inbox) or --workflow")
    out = output(args)
    ws = Workspace.open(args.repo)
    config = _with_flags(load_config(ws.root, args.config), args)
    if args.plan is None and args.inbox is None and not args.workflow:
        return await _run_goal(args, tui, ws, config, out)
    usage: list[Any] = []
    hints = None
    if args.inbox is not None or args.workflow:
        from maestro_tui.session import plans  # the engine: not for a plan file
    found = await _preflight(ws, config, args.base, None, out, tui)  # before any token
    if args.inbox is not None:
        plan, hints = await plans.inbox_run_plan(
            config, args.inbox.expanduser(), args.classify_with_model, usage
        )
    elif args.workflow:
        plan, config = plans.workflow_plan(config, ws.root, args.workflow, args.goal or "")
    else:
        plan = load_plan(args.plan.expanduser(), goal=args.goal)
    return await _start(
        tui,
        review=not args.yes,
        ws=ws,
        config=config,
        plan=plan,
        db_path=db_path(args),
        out=out,
        planner_usage=usage,
        merge_hints=hints,
        base=args.base,
        preflight=found,
        detach=detached(args),
    )


RUN = Command("run", "run a plan (or a goal) with parallel agents", _run_arguments, _run)


async def _run_goal(args: argparse.Namespace, tui: bool, ws: Any, config: Any, out: Any) -> int:
    """`run GOAL`: the preflight and the planner on the planning screen (or printed), then
    the run; nothing is recorded before the plan is made."""

    async def prepare(outlet: Any) -> Any:
        from maestro_tui.session import plans
        from maestro_tui.session.preparing import plan_run

        plans.check_planner(config)  # before the preflight's tree and any token
        return await plan_run(ws, config, args.goal, outlet, base=args.base)

    simulated = config.effective_planner_model == "demo" and not config.planner
    return await _plan_and_start(
        tui, prepare, out, goal=args.goal, review=not args.yes, db=db_path(args),
        simulated=simulated, detach=detached(args),
    )  # fmt: skip


async def _plan_and_start(
    tui: bool,
    prepare: Any,
    out: Any,
    *,
    goal: str,
    review: bool,
    db: Path,
    simulated: bool,
    detach: bool,
) -> int:
    """A run planned on the planning screen, then shown (its engine in the background with
    `detach`); or planned and run, printed."""
    if tui:
        from maestro_tui.ui.entry import run_planned

        return await run_planned(
            prepare, goal=goal, db_path=db, review_plan=review, simulated=simulated,
            detach=detach,
        )  # fmt: skip
    from maestro_tui.session.preparing import Outlet

    prepared = await prepare(Outlet(out.say, out.planning()))
    return await _start(False, review, out, db_path=db, **prepared.session_inputs())


async def _preflight(ws: Any, config: Any, base: str | None, env: Any, out: Any, tui: bool) -> Any:
    """The test command tried on the base (session/preflight.py); in a terminal, a red base
    is asked about, else refused unless allowed."""
    from maestro_tui.session.preflight import check_tests

    return await check_tests(ws, config, base, env, out.say, red_base_question(tui))


async def _start(tui: bool, review: bool, out: Any, detach: bool = False, **run: Any) -> int:
    """A new run, in the dashboard (its engine in the background with `detach`) or printed:
    the same inputs, checked the same way."""
    if tui:
        from maestro_tui.ui.entry import run_new

        return await run_new(review_plan=review, detach=detach, **run)
    from maestro_tui.headless.run import confirm_on_terminal, run_plan

    return await run_plan(out=out, confirm=confirm_on_terminal if review else None, **run)


def _with_flags(config: Any, args: argparse.Namespace) -> Any:
    """Flags win over maestro.toml; with_overrides validates them the same way."""
    from maestro_tui.config import with_overrides

    flags = {
        "max_agents": getattr(args, "agents", None),
        "merge_policy": getattr(args, "merge", None),
        "model": getattr(args, "model", None),
        "planner_model": getattr(args, "planner_model", None),
        "planner": getattr(args, "planner", None),
        "plan_overlaps": getattr(args, "overlaps", None),
        "api_base": getattr(args, "api_base", None),
        "budget_usd": getattr(args, "budget_usd", None),
        "budget_tokens": getattr(args, "budget_tokens", None),
        "executor_kind": getattr(args, "executor", None),
        "allow_red_base": True if getattr(args, "allow_red_base", False) else None,
    }
    overrides = {k: v for k, v in flags.items() if v is not None}
    return with_overrides(config, **overrides) if overrides else config


def _plan_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("goal")
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--config", type=Path)
    p.add_argument("-o", "--output", type=Path, help="write the plan here (TOML or .json)")
    model_args(p)


async def _plan(args: argparse.Namespace) -> int:
    from maestro_tui.config import load_config
    from maestro_tui.headless.run import plan_only
    from maestro_tui.workspace.repo import Workspace

    ws = Workspace.open(args.repo)
    config = _with_flags(load_config(ws.root, args.config), args)
    return await plan_only(ws, config, args.goal, args.output)


PLAN = Command(
    "plan", "ask the planner model for a plan, without running it", _plan_arguments, _plan
)


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", type=Path, help="where to copy the sample repo (default: a new dir)")
    p.add_argument("--headless", action="store_true")
    foreground_arg(p)
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--merge", choices=("auto", "review"), default="auto")
    p.add_argument("--pace", type=float, help="demo model speed: 1 = human-watchable, 0 = instant")
    executor_arg(p)
    p.add_argument(
        "--on-conflict",
        choices=("review", "agent", "retry"),
        default="review",
        help="a conflicting result waits for you (review), goes back to its agent, or reruns",
    )
    budget_args(p)
    db_arg(p)
    output_args(p)


async def _demo(args: argparse.Namespace) -> int:
    from maestro_tui.llm.demo import DEMO_GOAL
    from maestro_tui.session.inputs import UserError

    if args.pace is not None:
        if args.pace < 0:
            raise UserError(f"--pace must be 0 or more, got {args.pace}")
        os.environ["MAESTRO_DEMO_PACE"] = str(args.pace)

    async def prepare(outlet: Any) -> Any:
        """A fresh copy of the sample repository, its preflight and the demo's plan."""
        from maestro_tui.session import plans
        from maestro_tui.session.preparing import plan_run

        demo = plans.prepare_demo(
            dest=args.dir,
            db_path=db_path(args),
            max_agents=args.agents,
            merge_policy=args.merge,
            on_conflict=args.on_conflict,
            budget_usd=args.budget_usd,
            budget_tokens=args.budget_tokens,
            executor=args.executor,
        )
        outlet.say(f"demo repository: {demo.ws.root}")
        return await plan_run(demo.ws, demo.config, DEMO_GOAL, outlet, env=demo.env)

    return await _plan_and_start(
        wants_tui(args), prepare, output(args), goal=DEMO_GOAL, review=False, db=db_path(args),
        simulated=True, detach=detached(args),
    )  # fmt: skip


DEMO = Command(
    "demo",
    "the offline demo: no key, no network, a bundled sample repo",
    _demo_arguments,
    _demo,
)


def _rerun_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", metavar="RUN")
    p.add_argument(
        "--from",
        dest="from_tasks",
        action="append",
        default=[],
        metavar="TASK",
        help="run TASK and what depends on it again, take the rest over (repeatable;"
        " default: every task runs again)",
    )
    p.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="TASK",
        help="take TASK (and what it depends on) over as it merged (repeatable)",
    )
    p.add_argument("--worker", help="the worker for the tasks that run again")
    p.add_argument("--model", help="the model of the worker(s) of the tasks that run again")
    p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a maestro.toml setting for the re-run, e.g. merge.policy=review (repeatable)",
    )
    p.add_argument("--headless", action="store_true", help="print events instead of the TUI")
    foreground_arg(p)
    db_arg(p)
    output_args(p)


async def _rerun(args: argparse.Namespace) -> int:
    from maestro_tui.session.rerun import RerunRequest, ready_rerun

    tui, db = wants_tui(args), db_path(args)
    request = RerunRequest(
        args.run_id,
        tuple(args.from_tasks),
        tuple(args.keep),
        args.worker,
        args.model,
        tuple(args.assignments),
    )
    out = output(args)
    prepared, found = await ready_rerun(db, request, out.say, red_base_question(tui))
    if tui:
        from maestro_tui.ui.entry import run_new

        return await run_new(
            review_plan=False, preflight=found, detach=detached(args),
            **prepared.session_inputs(db),
        )  # fmt: skip
    from maestro_tui.headless.rerun import run_rerun

    return await run_rerun(db, prepared, found, out)


RERUN = Command(
    "rerun",
    "run a recorded run's plan again on its base, with something changed",
    _rerun_arguments,
    _rerun,
    description="A new run of RUN's plan on RUN's base commit. The tasks under study run"
    " again; every other task that merged in RUN is taken over as it merged (its result"
    " put on the new integration branch, nothing paid for it).",
)

COMMANDS = (RUN, PLAN, DEMO, RERUN)
