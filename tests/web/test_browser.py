"""`maestro-tui serve` in a real headless Chromium: load the page, see the dashboard of a demo
run, press keys through the page, take screenshots; and watch a run from a browser.

textual-serve's page draws the terminal with xterm.js on a canvas (WebGL or 2D), so the
text is not in the DOM. A script added before the page's own code catches the xterm
Terminal as it is built (its constructor assigns `this._core`), and the tests read the rows
of its active buffer: exactly the characters the canvas shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.demo_run import driven_demo, recorded_run_id
from tests.web.cdp import Browser, Page, chromium_path, launch
from tests.web.conftest import WAIT_S, assert_nothing_without_the_token, serving

pytestmark = [
    pytest.mark.slow,
    # On CI (which installs it) a missing Chromium fails the tests instead of skipping them.
    pytest.mark.skipif(
        chromium_path() is None and not os.environ.get("CI"),
        reason="chromium is not installed: apt-get install chromium",
    ),
]
ROOT = Path(__file__).resolve().parents[2]
PACE = "0.15"  # the demo model's speed: a run of about ten seconds
DEMO_TASKS = ("pricing-types", "discount-guard", "cart-bulk", "final-review")

XTERM_HOOK = """
Object.defineProperty(Object.prototype, "_core", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "_core", {value, writable: true, configurable: true});
    if (typeof this.loadAddon === "function") window.__terminal = this;  // the public Terminal
  },
});
"""
# Resolves with the terminal's text once it holds every word, checking after each write the
# terminal parses: the page says when to look, nothing polls.
XTERM_WAIT = """new Promise((resolve) => {
  const words = WORDS;
  const text = () => {
    const t = window.__terminal, buffer = t.buffer.active, rows = [];
    for (let y = 0; y < t.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      rows.push(line ? line.translateToString(true) : "");
    }
    return rows.join("\\n");
  };
  const check = () => {
    const now = text();
    if (words.every((word) => now.includes(word))) { resolve(now); return true; }
    return false;
  };
  const watch = () => {
    if (check()) return;
    const listener = window.__terminal.onWriteParsed(() => check() && listener.dispose());
  };
  if (window.__terminal) watch(); else window.addEventListener("load", watch);
})"""
XTERM_NOW = XTERM_WAIT.replace("WORDS", "[]")
# Resolves once textual-serve's page marks its body: the websocket closed, "Session ended".
SESSION_ENDED = """new Promise((resolve) => {
  const ended = () => document.body.classList.contains("-closed");
  if (ended()) return resolve(true);
  new MutationObserver(() => ended() && resolve(true)).observe(document.body, {attributes: true});
})"""


async def open_page(browser: Browser, url: str) -> Page:
    page = await browser.new_page(1400, 900)
    await page.send("Page.addScriptToEvaluateOnNewDocument", source=XTERM_HOOK)
    await page.navigate(url)
    return page


async def wait_for_text(page: Page, *words: str) -> str:
    """The terminal's text once it shows every one of `words`."""
    try:
        async with asyncio.timeout(WAIT_S):
            text: str = await page.evaluate(XTERM_WAIT.replace("WORDS", json.dumps(words)))
            return text
    except TimeoutError:
        raise AssertionError(f"never saw {words}:\n{await page.evaluate(XTERM_NOW)}") from None


async def press(page: Page, keys: str) -> None:
    """Type into the terminal, as a person who clicked into it would."""
    await page.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
    await page.type_text(keys)


async def wait_until_closed(page: Page) -> None:
    async with asyncio.timeout(WAIT_S):
        await page.evaluate(SESSION_ENDED)


def keep_screenshot(shot: Path, name: str) -> None:
    """MAESTRO_SAVE_SCREENSHOTS=1 keeps the picture in screenshots/ for the README."""
    if os.environ.get("MAESTRO_SAVE_SCREENSHOTS"):
        shutil.copyfile(shot, ROOT / "screenshots" / name)


def run_statuses(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM runs ORDER BY created_at")]


async def stop_runs(db: Path) -> None:
    """`maestro-tui stop` for every run of `db` still going in the background."""
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as conn:
        going = [r for (r,) in conn.execute("SELECT run_id FROM runs WHERE status = 'running'")]
    for run_id in going:
        stop = [sys.executable, "-m", "maestro_tui", "stop", run_id, "--db", str(db)]
        done = await asyncio.to_thread(subprocess.run, stop, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


async def test_a_demo_run_in_chromium(tmp_path: Path) -> None:
    took: dict[str, float] = {}
    start = time.monotonic()
    async with serving(tmp_path, "demo", "--pace", PACE) as served:
        await assert_nothing_without_the_token(served)
        async with launch(tmp_path / "chromium", tmp_path / "chromium.log") as browser:
            took["chromium up"] = time.monotonic() - start
            page = await open_page(browser, served.url)
            app = await served.wait_for_app()
            assert app.cmdline() == [sys.executable, "-m", "maestro_tui", "demo", "--pace", PACE]

            await wait_for_text(page, *DEMO_TASKS, "merge queue", "► running")
            took["dashboard shown"] = time.monotonic() - start
            await press(page, "p")  # pause dispatch: a command to the engine, from the page
            await wait_for_text(page, "dispatch paused")
            took["key answered"] = time.monotonic() - start
            # Paused, the run cannot end: the tasks running finish, and nothing new starts.
            await wait_for_text(page, "✓ merged")
            shot = await page.screenshot(tmp_path / "paused.png")
            assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
            keep_screenshot(tmp_path / "paused.png", "browser.png")
            await press(page, "?")  # the keys panel
            await wait_for_text(page, "dashboard", "fewer agents")
            await page.screenshot(tmp_path / "keys.png")

            # Closing the tab ends its app; the run goes on in its engine's process, paused
            # as it was, until it is stopped from anywhere (it can then be resumed).
            await browser.send("Target.closeTarget", targetId=page.target)
            gone, alive = psutil.wait_procs([app], timeout=WAIT_S)
            assert alive == [] and served.apps() == []
            assert run_statuses(tmp_path / "runs.db") == ["running"]
            took["tab closed, app gone"] = time.monotonic() - start
            await stop_runs(tmp_path / "runs.db")
            assert run_statuses(tmp_path / "runs.db") == ["interrupted"]

            # Stopping the server ends the app of a tab still open, and the page says so.
            second = await open_page(browser, served.url)
            app = await served.wait_for_app()
            assert await served.stop() == 0
            gone, alive = psutil.wait_procs([app], timeout=WAIT_S)
            assert alive == []
            await wait_until_closed(second)
            await stop_runs(tmp_path / "runs.db")  # the second tab's demo goes on: stop it
    took["all"] = time.monotonic() - start
    print("timings:", ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))


async def test_a_browser_watches_a_run_driven_elsewhere(tmp_path: Path) -> None:
    with driven_demo(tmp_path, pace=float(PACE)) as demo:
        run_id = await recorded_run_id(demo)
        async with serving(tmp_path, "watch", run_id[:10]) as served:  # a unique prefix will do
            async with launch(tmp_path / "chromium", tmp_path / "chromium.log") as browser:
                page = await open_page(browser, served.url)
                text = await wait_for_text(page, "WATCHING", *DEMO_TASKS)
                assert demo.proc.poll() is None  # live: the driver is still at it
                assert f"run {run_id}" in text and f"driven by pid {demo.proc.pid}" in text
                await page.screenshot(tmp_path / "watched.png")
                # When the run ends the watch ends, and with it the page's session.
                await wait_until_closed(page)
            assert demo.proc.wait(WAIT_S) == 3  # the demo's conflict waits for review
            # The page closes when the app ends its session; its process then still has
            # the interpreter's teardown to go through, which the driver may outlast or not.
            gone, alive = psutil.wait_procs(served.apps(), timeout=WAIT_S)
            assert alive == [] and served.apps() == []
            assert await served.stop() == 0
        assert demo.table_events() == demo.driver_events()  # the watcher wrote nothing
