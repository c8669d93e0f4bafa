"""What can be wrong with a run's inputs, found before anything is written (exit code 2).

Kept apart from the lifecycle, which loads the engine: the TUI checks a new run's inputs
before its first frame, and only then opens the run behind it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from maestro_tui.config import Config
from maestro_tui.domain.plan import Plan, validate_plan
from maestro_tui.process import Sandbox
from maestro_tui.session.workers import WorkerPool
from maestro_tui.workspace.repo import Workspace


class UserError(Exception):
    """Bad input found by a command itself (exit code 2); the message says what to do."""


def bad_input_errors() -> tuple[type[Exception], ...]:
    """The errors that mean bad input (exit code 2): each says what was wrong and what to do,
    and each is raised before anything is written."""
    from maestro_tui.agents.base import WorkerError
    from maestro_tui.config import ConfigError
    from maestro_tui.domain.plan import PlanError
    from maestro_tui.engine.executors import ExecutorError
    from maestro_tui.engine.merge import MergeNeedsResolution
    from maestro_tui.engine.runlock import RunLocked
    from maestro_tui.llm.client import LLMError
    from maestro_tui.sources import InboxError, WorkflowError
    from maestro_tui.store.db import StoreError
    from maestro_tui.workspace.preflight import PreflightRefused
    from maestro_tui.workspace.repo import WorkspaceError

    return (
        UserError,
        ConfigError,
        PlanError,
        WorkspaceError,
        StoreError,
        RunLocked,
        MergeNeedsResolution,
        WorkerError,
        LLMError,
        InboxError,
        WorkflowError,
        ExecutorError,
        PreflightRefused,
    )


def check_run_inputs(
    ws: Workspace, config: Config, plan: Plan, base: str | None = None
) -> WorkerPool:
    """Everything that can be wrong with a new run, found before anything is written."""
    validate_plan(plan, repo_root=ws.root)
    workers = WorkerPool(config)
    workers.check(plan)
    check_endpoints(config, {workers.name_for(t) for t in plan.tasks})
    check_sandbox(ws, config)
    base_branch, _ = ws.resolve_base(base)
    if ws.is_checked_out(base_branch):  # the agents start from its last commit, not the tree
        ws.check_clean_for(f for t in plan.tasks for f in t.files)
    return workers


def check_endpoints(config: Config, names: Iterable[str]) -> None:
    """The model endpoints the plan's coding CLIs are pointed at answer (a dead one would
    make every attempt retry for minutes): UserError naming each that does not."""
    from maestro_tui.agents.readiness import unreachable_endpoints

    specs = [config.workers[n] for n in sorted(names) if n in config.workers]
    dead = unreachable_endpoints(specs, os.environ)
    if dead:
        raise UserError(
            "\n".join(dead) + "\nStart the model server there, or fix the variable;"
            " `maestro-tui doctor` checks every worker without starting a run"
        )


def check_sandbox(ws: Workspace, config: Config) -> None:
    """The [sandbox] asked for can start here (SandboxUnavailable, a ConfigError, if not)."""
    sandbox = Sandbox.for_run(config, ws.root, ws.common_dir, ws.worktree_roots())
    if sandbox is not None:
        sandbox.check()
