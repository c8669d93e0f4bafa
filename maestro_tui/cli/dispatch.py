"""What each command line does: pick the front end (TUI or headless) and hand it the inputs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from maestro_tui.cli.parser import build_parser
from maestro_tui.session.outcome import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_TASK_FAILED


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"maestro-tui: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args.command = "launcher"
    if getattr(args, "db", None) is None:
        args.db = args.db_first  # `maestro-tui --db FILE COMMAND` as well as `COMMAND --db FILE`
    if getattr(args, "agents", None) is not None:
        from maestro_tui.config.settings import MAX_AGENTS

        if not 1 <= args.agents <= MAX_AGENTS:
            return _fail(f"--agents must be from 1 to {MAX_AGENTS}, got {args.agents}")
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        # Imported only now: `--help` and the TUI's first frame do not wait for them.
        from maestro_tui.llm.planner import PlannerError
        from maestro_tui.session.inputs import bad_input_errors

        if isinstance(exc, bad_input_errors()):
            return _fail(str(exc))
        if isinstance(exc, PlannerError):
            return _fail(str(exc), EXIT_TASK_FAILED)
        raise


def _db_path(args: argparse.Namespace) -> Path:
    from maestro_tui.store.db import default_db_path

    return (args.db or default_db_path()).expanduser()


def _output(args: argparse.Namespace) -> Any:
    from maestro_tui.headless.printer import Output

    return Output(
        as_json=getattr(args, "json", False), show_output=not getattr(args, "quiet", False)
    )


async def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    tui = not getattr(args, "headless", True) and _on_a_terminal()
    db = _db_path(args)
    if cmd == "launcher":
        from maestro_tui.ui.entry import run_launcher

        return await run_launcher(db, Path(os.getcwd()))
    if cmd == "replay":
        from maestro_tui.ui.entry import run_replay

        return await run_replay(db, args.run_id)
    if cmd == "watch":
        from maestro_tui.ui.entry import run_watch

        return await run_watch(db, args.run_id, stay=args.stay)
    if cmd == "serve":
        from maestro_tui.web.serve import serve

        return await serve(args.app, args.host, args.port, args.token, args.db, build_parser())
    if cmd == "init":
        return _init(args.repo, args.force)
    if cmd == "run":
        return await _run(args, tui)
    if cmd == "demo":
        return await _demo(args, tui)
    if cmd in ("resume", "retry", "resolve"):
        budgets = {"usd": args.budget_usd, "tokens": args.budget_tokens} if cmd == "resume" else {}
        agents = args.agents if cmd == "resume" else None
        first: dict[str, Any] = {
            "max_agents": agents,
            "budgets": budgets,
            "retry_task": args.task if cmd == "retry" else None,
            "resolve_task": args.task if cmd == "resolve" else None,
        }
        if tui:
            from maestro_tui.ui.entry import run_resume

            return await run_resume(db, args.run_id, **first)
        from maestro_tui.headless.run import resume_run

        return await resume_run(db, args.run_id, _output(args), **first)
    if cmd == "replan":
        from maestro_tui.headless.replan import replan_run

        return await replan_run(db, args.run_id, _output(args), yes=args.yes)
    if cmd == "runs":
        from maestro_tui.headless.history import list_runs

        return await list_runs(db, args.json)
    if cmd == "rerun":
        return await _rerun(args, tui, db)
    if cmd == "compare":
        from maestro_tui.headless.compare import compare

        return await compare(db, args.run_ids, as_json=args.json, diff_lines=args.diff_lines)
    if cmd == "stats":
        from maestro_tui.headless.stats import stats

        return await stats(db, args.since, args.repo, as_json=args.json)
    if cmd == "merges":
        from maestro_tui.headless.review import list_merges

        return await list_merges(db, args.run_id, args.json)
    if cmd in ("approve", "reject"):
        from maestro_tui.headless.review import decide_merge

        return await decide_merge(
            db,
            args.run_id,
            args.task,
            approve=cmd == "approve",
            take=getattr(args, "take", None),
            reason=getattr(args, "reason", ""),
            out=_output(args),
        )
    if cmd == "say":
        from maestro_tui.headless.say import say

        return await say(db, args.run_id, args.task, args.message, _output(args))
    if cmd == "plan":
        return await _plan(args)
    if cmd == "workflows":
        from maestro_tui.headless.workflows import list_workflows

        return list_workflows(args.repo, args.config, args.json)
    if cmd == "land":
        from maestro_tui.headless.land import LandRequest, land

        request = LandRequest(args.into, args.push, args.branch, args.pr, args.body_only)
        return await land(db, args.run_id, request, _output(args))
    if cmd == "mcp":
        from maestro_tui.mcp_server.server import serve as serve_mcp

        return await serve_mcp(args.repo.expanduser(), db)
    if cmd == "doctor":
        from maestro_tui.headless.doctor import doctor

        return await doctor(args.repo, args.config, db)
    if cmd == "gc":
        from maestro_tui.headless.gc import collect_garbage

        return collect_garbage(args.repo, db, remove_unmerged=args.all)
    raise AssertionError(f"unhandled command {cmd}")


def _init(repo: Path, force: bool) -> int:
    from maestro_tui.config import CONFIG_FILE, init_template
    from maestro_tui.config.detect import detect_project
    from maestro_tui.workspace.repo import Workspace

    root = Workspace.open(repo).root
    target = root / CONFIG_FILE
    if target.exists() and not force:
        return _fail(f"{target} already exists: edit it, or pass --force to overwrite it")
    project = detect_project(root)
    target.write_text(init_template(project), encoding="utf-8")
    print(f"wrote {target}")
    print(project.summary())
    return EXIT_OK


async def _run(args: argparse.Namespace, tui: bool) -> int:
    from maestro_tui.config import load_config
    from maestro_tui.domain.plan import load_plan
    from maestro_tui.session.inputs import UserError
    from maestro_tui.workspace.repo import Workspace

    if args.plan is None and args.inbox is None and not args.workflow and not args.goal:
        raise UserError("give a goal, a plan file (--plan), an inbox (--inbox) or --workflow")
    out = _output(args)
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
        db_path=_db_path(args),
        out=out,
        planner_usage=usage,
        merge_hints=hints,
        base=args.base,
        preflight=found,
    )


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
        tui, prepare, out, goal=args.goal, review=not args.yes, db=_db_path(args),
        simulated=simulated,
    )  # fmt: skip


async def _plan_and_start(
    tui: bool, prepare: Any, out: Any, *, goal: str, review: bool, db: Path, simulated: bool
) -> int:
    """A run planned on the planning screen, then shown; or planned and run, printed."""
    if tui:
        from maestro_tui.ui.entry import run_planned

        return await run_planned(
            prepare, goal=goal, db_path=db, review_plan=review, simulated=simulated
        )
    from maestro_tui.session.preparing import Outlet

    prepared = await prepare(Outlet(out.say, out.planning()))
    return await _start(False, review, out, db_path=db, **prepared.session_inputs())


async def _preflight(ws: Any, config: Any, base: str | None, env: Any, out: Any, tui: bool) -> Any:
    """The test command tried on the base (session/preflight.py); in a terminal, a red base
    is asked about, else refused unless allowed."""
    from maestro_tui.session.preflight import check_tests

    ask = _ask_red_base if tui and sys.stdin.isatty() else None
    return await check_tests(ws, config, base, env, out.say, ask)


async def _rerun(args: argparse.Namespace, tui: bool, db: Path) -> int:
    from maestro_tui.session.rerun import RerunRequest, ready_rerun

    request = RerunRequest(
        args.run_id,
        tuple(args.from_tasks),
        tuple(args.keep),
        args.worker,
        args.model,
        tuple(args.assignments),
    )
    out = _output(args)
    ask = _ask_red_base if tui and sys.stdin.isatty() else None
    prepared, found = await ready_rerun(db, request, out.say, ask)
    if tui:
        from maestro_tui.ui.entry import run_new

        return await run_new(review_plan=False, preflight=found, **prepared.session_inputs(db))
    from maestro_tui.headless.rerun import run_rerun

    return await run_rerun(db, prepared, found, out)


def _ask_red_base(found: Any) -> bool:
    try:
        answer = input("The base's tests fail before any change. Run anyway? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


async def _start(tui: bool, review: bool, out: Any, **run: Any) -> int:
    """A new run, in the dashboard or printed: the same inputs, checked the same way."""
    if tui:
        from maestro_tui.ui.entry import run_new

        return await run_new(review_plan=review, **run)
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


async def _plan(args: argparse.Namespace) -> int:
    from maestro_tui.config import load_config
    from maestro_tui.headless.run import plan_only
    from maestro_tui.workspace.repo import Workspace

    ws = Workspace.open(args.repo)
    config = _with_flags(load_config(ws.root, args.config), args)
    return await plan_only(ws, config, args.goal, args.output)


async def _demo(args: argparse.Namespace, tui: bool) -> int:
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
            db_path=_db_path(args),
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
        tui, prepare, _output(args), goal=DEMO_GOAL, review=False, db=_db_path(args),
        simulated=True,
    )  # fmt: skip


def _on_a_terminal() -> bool:
    """A terminal to draw the TUI on: a real one, or a browser's through `maestro-tui serve`
    (textual-serve runs each app over pipes, and names its web driver)."""
    if os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver"):
        return True
    return sys.stdout.isatty() and sys.stdin.isatty()
