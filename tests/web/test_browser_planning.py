"""`serve -- demo` in headless Chromium: the page shows the planning view early (the demo's
planner takes ~20 s; the page used to show only textual-serve's splash until it was done)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from tests.web.cdp import launch
from tests.web.conftest import WAIT_S, serving
from tests.web.test_browser import (
    keep_screenshot,
    open_page,
    press,
    pytestmark,  # noqa: F401  (slow; Chromium or skip)
    run_statuses,
    wait_for_text,
)

EARLY_S = 8.0  # page to planning view: the app's start and the websocket, not the planner


async def test_the_page_shows_the_planning_view_early(tmp_path: Path) -> None:
    async with serving(tmp_path, "demo") as served:
        async with launch(tmp_path / "chromium", tmp_path / "chromium.log") as browser:
            opened = time.monotonic()
            page = await open_page(browser, served.url)
            app = await served.wait_for_app()
            text = await wait_for_text(page, "Planning", "planner", "elapsed 0:")
            shown_after = time.monotonic() - opened
            assert "Harden the shop package" in text
            text = await wait_for_text(page, "planning with demo/planner")
            assert "preflight: the base's tests are green" in text
            shot = await page.screenshot(tmp_path / "planning.png")
            assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
            keep_screenshot(tmp_path / "planning.png", "browser-planning.png")
            assert shown_after <= EARLY_S, f"the planning view showed after {shown_after:.1f} s"

            await press(page, "q")  # cancel the planning (as escape does)
            gone, alive = psutil.wait_procs([app], timeout=WAIT_S)
            assert alive == [] and served.apps() == []
    db = tmp_path / "runs.db"
    assert not db.exists() or run_statuses(db) == []  # nothing recorded
    print(f"planning view {shown_after:.1f} s after the page was opened")
