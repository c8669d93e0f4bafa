"""The preflight of a new run, for both front ends: refused as bad input, or red and asked.

See workspace/preflight.py for what is tried. Here: the environment a task's tests get, the
run's sandbox, what the user is told, and the decision on a red base: go on when
`[tests] allow_red_base` (or --allow-red-base) says so or `ask` answers yes, else stop as bad
input before anything is recorded.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping

from maestro_tui.config import Config
from maestro_tui.engine.attempt import WORKTREE_ENV
from maestro_tui.process import Sandbox, base_env
from maestro_tui.session.inputs import UserError
from maestro_tui.workspace.preflight import Preflight, PreflightRefused, preflight
from maestro_tui.workspace.repo import Workspace

SHOWN_FAILURES = 10

__all__ = ["AskRedBase", "Preflight", "PreflightRefused", "check_tests"]

# Go on although the base's own tests fail? A terminal answers at once; the TUI's planning
# view later, in a modal.
AskRedBase = Callable[[Preflight], bool | Awaitable[bool]]


async def check_tests(
    ws: Workspace,
    config: Config,
    base: str | None,
    env: Mapping[str, str] | None,
    say: Callable[[str], None],
    ask: AskRedBase | None = None,
) -> Preflight | None:
    """Run the preflight on the run's base; raises PreflightRefused or UserError (bad input)."""
    if not config.test_command.strip():
        return None
    _, commit = ws.resolve_base(base)
    ws.set_worktree_root(config.worktree_root)
    sandbox = Sandbox.for_run(config, ws.root, ws.common_dir, ws.worktree_roots())
    if sandbox is not None:
        sandbox.check()  # the tests run in it: a sandbox that cannot start says so first
    full_env = base_env({**WORKTREE_ENV, **ws.agent_env(), **(env or {})})
    say(f"preflight: trying `{config.test_command}` on the base, prepared like a task's tree …")
    found = await preflight(ws, config, commit, full_env, sandbox, say)
    if found is None:
        return None
    say(found.summary())
    if not found.red:
        return found
    failing = sorted(found.failing)
    for name in failing[:SHOWN_FAILURES]:
        say(f"  failing on the base: {name}")
    if len(failing) > SHOWN_FAILURES:
        say(f"  … and {len(failing) - SHOWN_FAILURES} more")
    if not failing:
        say("  " + "\n  ".join(found.result.output_tail.strip().splitlines()[-8:]))
    if config.allow_red_base or (ask is not None and await _answer(ask, found)):
        say("going on: tests already failing on the base are not charged to any task")
        return found
    raise UserError(
        "the base's own tests fail (above), before any agent changed anything: fix them"
        " first, or pass --allow-red-base (or set [tests] allow_red_base = true) to run"
        " anyway; failures already on the base are then not charged to any task"
    )


async def _answer(ask: AskRedBase, found: Preflight) -> bool:
    reply = ask(found)
    return bool(await reply) if inspect.isawaitable(reply) else bool(reply)
