"""Planning, running and resuming with no TUI: every event printed as it happens."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from maestro_tui.config import Config
from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.overlaps import arrange_overlaps, overlap_lines
from maestro_tui.domain.plan import Plan, plan_to_toml, validate_plan
from maestro_tui.headless.printer import Output
from maestro_tui.notify.channels import tty_writer
from maestro_tui.session.lifecycle import (
    MergeHints,
    RunSession,
    UserError,
    check_run_inputs,
    drive,
    forecast,
    resume,
    start_session,
)
from maestro_tui.session.outcome import EXIT_OK, exit_code, next_step
from maestro_tui.session.plans import check_planner, make_plan
from maestro_tui.workspace.repo import Workspace

if TYPE_CHECKING:
    from maestro_tui.domain.state import RunState
    from maestro_tui.llm.client import Completion
    from maestro_tui.workspace.preflight import Preflight


async def run_plan(
    *,
    ws: Workspace,
    config: Config,
    plan: Plan,
    db_path: Path,
    out: Output,
    confirm: Callable[[Plan], bool] | None = None,
    planner_usage: Sequence[Completion] = (),
    env: Mapping[str, str] | None = None,
    merge_hints: MergeHints | None = None,
    base: str | None = None,
    preflight: Preflight | None = None,
) -> int:
    """Validate everything first, so bad input writes nothing; then record and run the plan.

    `confirm` (None: start at once) shows the plan and asks before anything is recorded.
    """
    plan = arrange_overlaps(plan, config.plan_overlaps)  # shown as start_session will run it
    workers = check_run_inputs(ws, config, plan, base)
    estimate = forecast(config, plan)
    if estimate:
        out.say(estimate)
    print_overlaps(plan, out.say)
    if confirm is not None and not confirm(plan):
        print("run not started", file=out.stream)
        return EXIT_OK
    session = await start_session(
        ws=ws,
        config=config,
        plan=plan,
        db_path=db_path,
        subscribers=[out.printer()],
        workers=workers,
        env=env,
        planner_usage=planner_usage,
        merge_hints=merge_hints,
        base=base,
        terminal=tty_writer(),
        preflight=preflight,
    )
    async with session:
        state = await drive(session.orch)
        await print_metrics(session, out)
    return finish(state, out)


async def resume_run(
    db_path: Path,
    run_ref: str,
    out: Output,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
) -> int:
    """Finish a run; with `retry_task`, first drop that task's waiting result to run it again."""
    session, start = await resume(
        db_path,
        run_ref,
        subscribers=[out.printer()],
        max_agents=max_agents,
        budgets=budgets,
        retry_task=retry_task,
        resolve_task=resolve_task,
        terminal=tty_writer(),
    )
    async with session:
        state = session.state
        if not start:
            print(f"run {state.run_id} has nothing left to do ({state.status})", file=out.stream)
            return finish(state, out)
        state = await drive(session.orch)
        await print_metrics(session, out)
    return finish(state, out)


def finish(state: RunState, out: Output) -> int:
    """The exit code, after telling a person how to go on with an unfinished run."""
    hint = next_step(state)
    if hint:
        out.say(hint)
    return exit_code(state)


async def print_metrics(session: RunSession, out: Output) -> None:
    """The run's coordination metrics, next to their targets, after the last event."""
    from maestro_tui.domain.metrics import compute_metrics, format_metrics

    if out.as_json:
        return
    await session.store.flush()
    events = await session.store.load_events(session.state.run_id)
    out.say("coordination metrics:")
    for line in format_metrics(compute_metrics(events, session.state)):
        out.say("  " + line)


def print_overlaps(plan: Plan, say: Callable[[str], None]) -> None:
    """The tasks that name a common file: the orders added for them, or the conflicts they may
    bring ([plan] overlaps = "parallel")."""
    lines = overlap_lines(plan)
    if lines:
        say(f"overlaps: {len(lines)} pair(s) of tasks name a common file")
        for line in lines:
            say("  " + line)


def confirm_on_terminal(plan: Plan) -> bool:
    """Show the plan layer by layer and ask before it runs (`--yes` skips this)."""
    if not sys.stdin.isatty():
        raise UserError("the plan needs review before it runs: pass --yes to start it as it is")
    for i, layer in enumerate(topological_layers(plan.graph()), start=1):
        print(f"layer {i}:")
        for task_id in layer:
            task = plan.by_id[task_id]
            print(f"  {task.id:<20} {task.role:<10} {task.title}")
    answer = input(f"run these {len(plan.tasks)} tasks? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def plan_only(ws: Workspace, config: Config, goal: str, output: Path | None) -> int:
    """`plan`: the planner's plan, printed or written to a file, with its cost, forecast and
    the tasks that name a common file (ordered, or left to run at once: [plan] overlaps)."""
    check_planner(config, workers=False)
    err = Output(stream=sys.stderr)
    plan, usage = await make_plan(config, goal, ws.root, err.say, err.planning())
    validate_plan(plan, repo_root=ws.root)
    plan = arrange_overlaps(plan, config.plan_overlaps)
    spent = sum(c.cost_usd or 0.0 for c in usage)
    print(f"planner: {len(usage)} call(s), ${spent:.4f}", file=sys.stderr)
    print_overlaps(plan, lambda line: print(line, file=sys.stderr))
    estimate = forecast(config, plan)
    if estimate:
        print(estimate, file=sys.stderr)
    if output is None:
        print(plan_to_toml(plan))
        return EXIT_OK
    write_plan(plan, output)
    print(f"wrote {output}: maestro-tui run --plan {output}", file=sys.stderr)
    return EXIT_OK


def write_plan(plan: Plan, path: Path) -> None:
    """TOML, or JSON when the file name ends in .json."""
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(plan.to_dict(), indent=2) + "\n", encoding="utf-8")
    else:
        path.write_text(plan_to_toml(plan), encoding="utf-8")
