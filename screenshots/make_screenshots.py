"""Save an SVG of each screen: `python screenshots/make_screenshots.py`.

The dashboard mid-run (160×48, with a merge waiting), with its keys panel open, and condensed
(80×24), from the same hand-made run as the snapshot tests; then the other screens whose
modules exist: the merge review (with conflicts, and of an ensemble's candidates), the plan
review, the launcher (history from the sample run recorded in a temporary database) and the
replay, stepped to its end.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.screen import Screen  # noqa: E402

from maestro_tui.ui.app import MaestroApp  # noqa: E402
from maestro_tui.ui.screens.run import RunScreen  # noqa: E402
from tests.ui.sample_run import (  # noqa: E402
    PLAN,
    RUN_ID,
    middle_events,
    new_bus,
    sample_session,
    start_events,
)

OUT = ROOT / "screenshots"


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def shoot(
    name: str,
    make: Callable[[], Screen[Any]],
    size: tuple[int, int],
    before: Callable[[Any], Any] | None = None,
) -> None:
    app = MaestroApp(make, watch_themes=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if before is not None:
            await before(pilot)
        await app.workers.wait_for_complete()
        await pilot.pause()
        for widget in app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
        await pilot.pause()
        app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"wrote screenshots/{name}.svg ({size[0]}×{size[1]})")


async def dashboard(name: str, size: tuple[int, int], keys: tuple[str, ...] = ()) -> None:
    """The dashboard mid-run, after pressing `keys` (`?`: the keys panel over its side)."""
    session, bus, clock = sample_session()

    async def fill(pilot: Any) -> None:
        middle_events(bus, clock)
        screen = pilot.app.screen
        screen.bridge.flush()
        await pilot.pause()
        await pilot.press(*keys)

    await shoot(name, lambda: RunScreen(session, start=False), size, fill)  # type: ignore[arg-type]


async def record_sample(db: Path) -> None:
    from maestro_tui.store.db import Store

    store = await Store.open(db)
    try:
        bus, clock = new_bus()
        bus.subscribe(store.append)
        start_events(bus)
        middle_events(bus, clock)
        await store.flush()
    finally:
        await store.close()


async def play_through(pilot: Any) -> None:
    """Step the replay event by event to the end, so every pane (metrics too) has been fed."""
    from maestro_tui.ui.widgets.run_metrics import RunMetricsLine

    await pilot.app.workers.wait_for_complete()  # the replay's load
    screen = pilot.app.screen
    while screen.replayer is not None and not screen.replayer.at_end:
        await screen.action_step()
    screen.query_one(RunMetricsLine).recompute()  # the throttle's last, pending recompute
    await pilot.pause()


async def planning(name: str, size: tuple[int, int]) -> None:
    """The planning view mid-plan: a scripted planner that has read and spent, still writing."""
    from maestro_tui.ui.screens.planning import Planning, PlanningScreen
    from tests.ui.scripted_planner import SCRIPT, ScriptedPlanner

    script = [("say", "planning with demo/planner …") if "planning with" in str(v) else (k, v)
              for k, v in SCRIPT]  # fmt: skip
    planner = ScriptedPlanner(script=script, delay_s=0.0)
    started = 100.0
    clock = [started]
    screen = PlanningScreen(
        Planning(planner), lambda _: None, goal="Harden the shop package: type hints, reject "
        "impossible discounts, bulk discount tiers in the cart", simulated=True,
        clock=lambda: clock[0],
    )  # fmt: skip
    app = MaestroApp(lambda: screen, watch_themes=False)
    async with app.run_test(size=size) as pilot:
        await planner.reached.wait()
        clock[0] = started + 14.2
        screen.view.flush()
        await pilot.pause()
        app.save_screenshot(f"{name}.svg", str(OUT))
        planner.release.set()
    print(f"wrote screenshots/{name}.svg ({size[0]}×{size[1]})")


async def attached(name: str, size: tuple[int, int]) -> None:
    """A real demo run driven by its engine in the background, the dashboard attached to it,
    and `q` asking whether to leave it going: the dashboard behind the question."""
    import os

    from maestro_tui.domain.state import TaskStatus
    from maestro_tui.session.attached import AttachedRun
    from tests.support.engine_runs import demo_engine

    os.environ["MAESTRO_DEMO_PACE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        async with demo_engine(Path(tmp), merge_policy="auto") as engine:
            run = await AttachedRun.attach(engine.db, engine.run_id)

            app = MaestroApp(lambda: RunScreen(run), watch_themes=False)
            async with app.run_test(size=size) as pilot:  # the run's worker never completes
                merged = TaskStatus.MERGED
                while sum(t.status is merged for t in run.state.tasks.values()) < 3:
                    await pilot.pause(0.2)
                await pilot.press("q")
                await pilot.pause(0.5)
                app.save_screenshot(f"{name}.svg", str(OUT))
                await run.stop()
            await run.aclose()
    print(f"wrote screenshots/{name}.svg ({size[0]}×{size[1]})")


async def main() -> None:
    await planning("planning", (140, 36))
    await dashboard("dashboard", (160, 48))
    await dashboard("dashboard-80x24", (80, 24))
    await dashboard("dashboard-keys", (160, 48), ("question_mark",))
    await attached("dashboard-background", (160, 48))
    if have("maestro_tui.ui.screens.merge_review"):
        from maestro_tui.ui.screens.merge_review import MergeReviewScreen
        from tests.support.review_runs import fake_ensemble_review, fake_review

        await shoot(
            "merge-review", lambda: MergeReviewScreen(fake_review(), "version-three"), (140, 40)
        )
        await shoot(
            "merge-review-candidates",
            lambda: MergeReviewScreen(fake_ensemble_review(), "version-three"),
            (140, 40),
        )
    if have("maestro_tui.ui.screens.plan_review"):
        from maestro_tui.domain.plan import parse_plan
        from maestro_tui.ui.screens.plan_review import PlanReviewScreen

        await shoot("plan-review", lambda: PlanReviewScreen(parse_plan(PLAN), None), (140, 40))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        await record_sample(db)
        if have("maestro_tui.ui.screens.launcher"):
            from maestro_tui.ui.screens.launcher import LauncherScreen

            # A repository path of no machine in particular (the form shows it).
            await shoot("launcher", lambda: LauncherScreen(db, Path("/src/calc")), (130, 30))
        if have("maestro_tui.ui.screens.replay"):
            from maestro_tui.ui.screens.replay import ReplayScreen

            await shoot("replay", lambda: ReplayScreen(db, RUN_ID), (160, 48), play_through)


if __name__ == "__main__":
    asyncio.run(main())
