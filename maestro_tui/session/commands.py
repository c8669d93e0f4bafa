"""What a front end may ask of a run's engine, by name: the command channel's table.

Each command is one of the Orchestrator's own methods, so a command from an attached TUI,
from `maestro-tui stop` or from a second client is exactly the call the TUI makes when it
drives the run in its own process, and records the same events. Two clients approving the
same merge are decided once: the engine runs one command at a time, and the second approval
finds the merge gone (MergeRefused / KeyError, as in one process).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from maestro_tui.domain.plan import parse_plan
from maestro_tui.domain.state import RunStatus

if TYPE_CHECKING:  # a front end sends commands; only the engine runs an orchestrator
    from maestro_tui.engine.orchestrator import Orchestrator

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class EngineControl:
    """The engine's own state a command can change: whether to start, whether to stop."""

    def __init__(self) -> None:
        self.start = asyncio.Event()  # the plan is approved: drive the run
        self.stop = asyncio.Event()  # pause the run where it is and end the engine
        self.stop_reason = ""


def _sync(call: Callable[[dict[str, Any]], Any]) -> Handler:
    async def handler(args: dict[str, Any]) -> Any:
        return call(args)

    return handler


def command_table(orch: Orchestrator, control: EngineControl) -> dict[str, Handler]:
    """Every command a front end can send, and what it does in this engine (each looks the
    orchestrator's method up when it is sent)."""

    def revise_plan(args: dict[str, Any]) -> None:
        orch.revise_plan(parse_plan(args["plan"], goal=orch.plan.goal))

    def start(args: dict[str, Any]) -> None:
        orch.approve_plan()
        control.start.set()

    def cancel_plan(args: dict[str, Any]) -> None:
        if orch.state.plan_approved:
            raise RuntimeError("the plan is approved and running: stop the run instead")
        orch.finish(RunStatus.CANCELLED)
        control.stop_reason = "the plan was cancelled"
        control.stop.set()

    def stop(args: dict[str, Any]) -> None:
        control.stop_reason = str(args.get("reason") or "stopped by the user")
        control.stop.set()

    def hello(args: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": orch.bus.run_id, "pid": os.getpid(), "seq": orch.bus.last_seq}

    table: dict[str, Handler] = {
        "hello": _sync(hello),
        "start": _sync(start),
        "stop": _sync(stop),
        "revise_plan": _sync(revise_plan),
        "cancel_plan": _sync(cancel_plan),
        "pause": _sync(lambda a: orch.pause()),
        "unpause": _sync(lambda a: orch.unpause()),
        "set_max_agents": _sync(lambda a: orch.set_max_agents(int(a["n"]))),
        "cancel_task": _sync(lambda a: orch.cancel_task(str(a["task"]))),
        "cancel": _sync(lambda a: orch.cancel()),
        "raise_budget": _sync(lambda a: orch.raise_budget(str(a["kind"]), float(a["limit"]))),
        "steer": _sync(lambda a: orch.steer(str(a["task"]), str(a["text"]), "tui")),
        "steer_delivery": _sync(lambda a: orch.steer_delivery(str(a["task"]))),
        "pick_candidate": _sync(
            lambda a: orch.merges.pick_candidate(a["task"], int(a["candidate"]))
        ),
        "requeue": _sync(lambda a: orch.merges.requeue(str(a["task"]))),
        "retry": _sync(lambda a: orch.merges.retry(str(a["task"]))),
        "approve": lambda a: orch.merges.approve(str(a["task"]), a.get("resolution")),
        "reject": lambda a: orch.merges.reject(str(a["task"]), str(a.get("reason", ""))),
        "resolve_with_agent": lambda a: orch.merges.resolve_with_agent(str(a["task"])),
        "diff_for": lambda a: orch.merges.diff_for(str(a["task"])),
        "conflicts_for": lambda a: orch.merges.conflicts_for(str(a["task"])),
        "trial": lambda a: orch.merges.trial(str(a["task"]), a.get("resolution")),
    }
    return table


def command_sender(
    orch: Orchestrator, control: EngineControl | None = None
) -> Callable[..., Awaitable[Any]]:
    """`send(command, **arguments)` to `orch` through the table: what the engine's channel
    answers with, and what a front end driving the run in its own process calls."""
    return table_sender(command_table(orch, control or EngineControl()))


def table_sender(table: dict[str, Handler]) -> Callable[..., Awaitable[Any]]:
    """`send(command, **arguments)`: the command's handler in `table`, or ValueError."""

    async def send(cmd: str, **args: Any) -> Any:
        handler = table.get(cmd)
        if handler is None:
            raise ValueError(f"unknown command {cmd!r}")
        return await handler(args)

    return send
