"""Before a new run is recorded: its preflight and its plan, reported as they go.

Both front ends prepare a run the same way and differ only in the `Outlet` they give: the
headless one prints every line, the TUI's planning view shows them (and asks about a red
base in a modal). Nothing is recorded here: a preparation that fails or is cancelled leaves
no run behind; `Prepared` holds everything `start_session` needs to record one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from maestro_tui.config import Config, load_config, with_overrides
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.workspace.repo import Workspace

if TYPE_CHECKING:
    from maestro_tui.llm.client import Completion
    from maestro_tui.session.lifecycle import MergeHints
    from maestro_tui.session.preflight import AskRedBase, Preflight


@dataclass(frozen=True)
class Outlet:
    """Where a preparation reports: lines of status, the planner's progress, the red-base
    question (None: a red base is refused unless the settings allow it)."""

    say: Callable[[str], None]
    progress: PlanningProgress | None = None
    ask: AskRedBase | None = None


@dataclass(frozen=True)
class Prepared:
    """A run ready to be recorded: `start_session(db_path=…, **prepared.session_inputs())`."""

    ws: Workspace
    config: Config
    plan: Plan
    planner_usage: Sequence[Completion] = ()
    preflight: Preflight | None = None
    base: str | None = None
    env: Mapping[str, str] | None = None
    merge_hints: MergeHints | None = None

    def session_inputs(self) -> dict[str, Any]:
        return {
            "ws": self.ws,
            "config": self.config,
            "plan": self.plan,
            "planner_usage": self.planner_usage,
            "preflight": self.preflight,
            "base": self.base,
            "env": self.env,
            "merge_hints": self.merge_hints,
        }


Prepare = Callable[[Outlet], Awaitable[Prepared]]


async def plan_run(
    ws: Workspace,
    config: Config,
    goal: str,
    outlet: Outlet,
    *,
    base: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Prepared:
    """The preflight on the base (before any token is spent), then the planner's plan."""
    from maestro_tui.session.plans import make_plan
    from maestro_tui.session.preflight import check_tests

    found = await check_tests(ws, config, base, env, outlet.say, outlet.ask)
    plan, usage = await make_plan(config, goal, ws.root, outlet.say, outlet.progress)
    return Prepared(ws, config, plan, usage, found, base, env)


async def plan_launch(
    repo: Path, goal: str, model: str, agents: int, budget_usd: float | None, outlet: Outlet
) -> Prepared:
    """The launcher's start: its form's settings over maestro.toml's, then as `run GOAL`."""
    ws = Workspace.open(repo)
    config = with_overrides(load_config(ws.root), model=model, max_agents=agents)
    if budget_usd is not None:
        config = with_overrides(config, budget_usd=budget_usd)
    return await plan_run(ws, config, goal, outlet)
