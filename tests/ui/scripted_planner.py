"""A scripted planner for the planning screen's tests: it reports through the Outlet as a real
one does (status lines, streamed fragments, reads, each call's tokens), with delays between,
and can be held at a point until the test lets it go on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from maestro_tui.session.preparing import Outlet

# (kind, value): "say" a status line, "said" a fragment, "read" a path, "spent" (in, out, $),
# "ask" the red-base question (value: the fake preflight), "hold" until released.
Step = tuple[str, Any]

SCRIPT: list[Step] = [
    ("say", "preflight: the base's tests are green (9 passed, 0 failed, 0.2 s)"),
    ("say", "planning with scripted/planner …"),
    ("said", "Looking at "),
    ("said", "the pricing module first.\n"),
    ("read", "shop/pricing.py"),
    ("read", "shop/cart.py:10-40"),
    ("spent", (1200, 80, 0.0031)),
    ("said", "Two callers of apply_discount; "),
    ("said", "the cart needs tiers."),
    ("read", "grep 'def total' shop/"),
    ("spent", (2400, 150, 0.0062)),
    ("said", "Splitting the goal into 3 tasks"),
]


@dataclass
class FakePreflight:
    """What the red-base question is shown: the failing tests."""

    failing: frozenset[str] = frozenset({"tests/test_cart.py::test_total"})


@dataclass
class ScriptedPlanner:
    """A planning job: plays `script` with `delay_s` between steps, then returns `result`."""

    script: list[Step] = field(default_factory=lambda: list(SCRIPT))
    result: Any = "the plan"
    delay_s: float = 0.01
    reached: asyncio.Event = field(default_factory=asyncio.Event)  # every step played
    release: asyncio.Event = field(default_factory=asyncio.Event)  # "hold" waits for it
    answers: list[bool] = field(default_factory=list)
    cancelled: bool = False
    finish: Callable[[], Any] | None = None  # makes the result at the end, when given

    async def __call__(self, outlet: Outlet) -> Any:
        progress = outlet.progress
        assert progress is not None
        try:
            for kind, value in self.script:
                await asyncio.sleep(self.delay_s)
                if kind == "say":
                    outlet.say(value)
                elif kind == "said":
                    progress.said(value)
                elif kind == "read":
                    progress.read(value)
                elif kind == "spent":
                    progress.spent(*value)
                elif kind == "ask":
                    assert outlet.ask is not None
                    reply = outlet.ask(value)
                    self.answers.append(bool(await reply if asyncio.iscoroutine(reply) else reply))
                elif kind == "hold":
                    self.reached.set()
                    await self.release.wait()
            self.reached.set()
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return self.finish() if self.finish is not None else self.result
