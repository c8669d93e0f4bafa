"""Where a run's plan comes from besides a plan file: the planner model, an inbox of issues,
a workflow template, or the offline demo."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from maestro_tui.config import Config, load_config, with_overrides
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.session.lifecycle import MergeHints, UserError
from maestro_tui.workspace.repo import Workspace

if TYPE_CHECKING:
    from maestro_tui.engine.merge import Candidate
    from maestro_tui.llm.client import Completion

Say = Callable[[str], None]
NO_PLANNER = (
    "no model is named to plan the goal: pass --model MODEL (a litellm model, e.g."
    " anthropic/claude-sonnet-4-5 or ollama/qwen2.5-coder), set [llm] model in maestro.toml, or"
    " plan with a coding CLI you are logged in to: --planner claude (or codex, gemini)."
    " `maestro-tui demo` runs the offline demo on its own sample repository"
)


def check_planner(config: Config, workers: bool = True) -> None:
    """Someone is named to plan a goal (a model, or a coding CLI) and, with `workers`, the
    tasks' default worker can work; UserError before anything is written or spent if not.
    The offline demo model is never taken for want of one: it only knows its sample repo."""
    from maestro_tui.session.workers import WorkerPool

    if not (config.planner or config.effective_planner_model):
        raise UserError(NO_PLANNER)
    if workers:
        WorkerPool(config).check_worker(config.task_worker)


async def make_plan(
    config: Config,
    goal: str,
    root: Path,
    say: Say | None = None,
    progress: PlanningProgress | None = None,
) -> tuple[Plan, list[Completion]]:
    """The planner's plan for a goal, and its calls' usage (recorded once the run starts);
    `progress` hears what the planner says, reads and spends while it plans."""
    from maestro_tui.llm.cli_planner import plan_with_cli, planner_cli
    from maestro_tui.llm.models import plan_with_model, resolve_model

    check_planner(config, workers=False)  # never the demo model for want of one
    usage: list[Completion] = []
    cli = planner_cli(config)  # [llm] planner names a coding CLI: it plans, read-only
    if cli is not None:
        if say is not None:
            say(f"planning with {cli.name}, read-only, in a scratch checkout …")
        plan = await plan_with_cli(config, cli, goal, root, usage.append, progress)
        return plan, usage
    if say is not None:
        say(f"planning with {resolve_model(config.effective_planner_model, 'planner')} …")
    plan = await plan_with_model(config, goal, root, on_usage=usage.append, progress=progress)
    return plan, usage


async def inbox_run_plan(
    config: Config, folder: Path, with_model: bool, usage: list[Completion]
) -> tuple[Plan, MergeHints]:
    """One task per inbox item, routed to a role; and the review hints for their merges."""
    from maestro_tui.sources import classify_with_model, inbox_plan, load_inbox, review_hint

    items = load_inbox(folder)
    if not items:
        raise UserError(f"inbox {folder}: no .md or .json issues in it")
    roles = None
    if with_model:
        from maestro_tui.llm.models import make_client, resolve_model

        model = resolve_model(config.effective_planner_model, "planner")
        roles = await classify_with_model(make_client(config, model, on_usage=usage.append), items)
    by_id = {item.id: item for item in items}

    def hints(candidate: Candidate) -> list[str]:
        item = by_id.get(candidate.task_id)
        if item is None:
            return []
        return list(review_hint(item, candidate.lines_changed, candidate.tests_passed))

    return inbox_plan(items, roles), hints


def workflow_plan(config: Config, root: Path, name: str, goal: str) -> tuple[Plan, Config]:
    """A workflow expanded over the repository; its total token budget applies if none is set."""
    from maestro_tui.sources import load_workflows

    flows = load_workflows(root, config.workflow_tables)
    if name not in flows:
        raise UserError(f"no workflow '{name}'; known: {', '.join(sorted(flows))}")
    expanded = flows[name].expand(root, goal)
    tasks = tuple(
        replace(
            t,
            candidates=expanded.candidates.get(t.id, t.candidates),
            budget_tokens=expanded.task_budgets.get(t.id, t.budget_tokens),
        )
        for t in expanded.plan.tasks
    )
    plan = Plan(goal=expanded.plan.goal, tasks=tasks)
    if expanded.total_budget_tokens and config.budget_tokens is None:
        config = with_overrides(config, budget_tokens=expanded.total_budget_tokens)
    return plan, config


@dataclass(frozen=True)
class DemoSetup:
    """A fresh copy of the sample repository and the settings the demo runs it with."""

    ws: Workspace
    config: Config
    env: dict[str, str]


def prepare_demo(
    *,
    dest: Path | None,
    db_path: Path,
    max_agents: int,
    merge_policy: str,
    on_conflict: str = "review",
    budget_usd: float | None = None,
    budget_tokens: int | None = None,
    executor: str | None = None,
) -> DemoSetup:
    """Copy the sample repo somewhere new; the demo goal runs there on the offline demo model."""
    from maestro_tui.llm.demo import copy_sample_repo
    from maestro_tui.llm.demo.script import TEST_COMMAND

    if dest is None:
        dest = db_path.parent / "demo" / time.strftime("%Y%m%d-%H%M%S")
    try:
        copy_sample_repo(dest)
    except FileExistsError as exc:
        raise UserError(f"{exc}: pass --dir with a new or empty folder") from None
    ws = Workspace.open(dest)
    config = with_overrides(
        load_config(ws.root),
        test_command=TEST_COMMAND,
        default_worker="demo",
        model="demo",
        planner_model="demo",
        plan_overlaps="parallel",  # its one conflict is on purpose: the merge review's demo
        max_agents=max_agents,
        merge_policy=merge_policy,
        on_conflict=on_conflict,
        budget_usd=budget_usd,
        budget_tokens=budget_tokens,
        **({"executor_kind": executor} if executor else {}),
    )
    return DemoSetup(ws, config, demo_env())


def demo_env() -> dict[str, str]:
    """The demo's `python` is the one maestro-tui runs on (it has pytest), without plugins."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {"PATH": path, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
