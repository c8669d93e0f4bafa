"""Suite-wide: task worktrees go to a temporary cache folder, never the real ~/.cache, and
background engines log to a temporary state folder, never the real ~/.local/state (any engine a
test left going is ended with the suite); and every run ends by saying what it skipped, and
why."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Worktrees default to the user cache directory (platformdirs honours XDG_CACHE_HOME);
    # set in os.environ, so maestro-tui processes the tests start use it too.
    cache = tmp_path_factory.mktemp("xdg-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(autouse=True, scope="session")
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Engines started in the background (`run`, `demo` in a terminal) keep their logs there.
    state = tmp_path_factory.mktemp("xdg-state")
    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(state)
    yield state
    _end_engines_of(state, tmp_path_factory.getbasetemp())
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


def _end_engines_of(state: Path, basetemp: Path) -> None:
    """Kill the background engines this suite started that are still going: those logging
    to its state folder, or driving a database under its temporary folders (a test that gave
    its engine a state folder of its own, and failed before stopping it)."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "maestro_tui" not in cmdline or "engine" not in cmdline:
            continue
        db = cmdline[cmdline.index("--db") + 1] if "--db" in cmdline[:-1] else ""
        try:
            if db.startswith(str(basetemp)) or proc.environ().get("XDG_STATE_HOME") == str(state):
                proc.kill()
        except psutil.Error:
            continue


def skips_by_reason(
    reports: Iterable[pytest.TestReport | pytest.CollectReport],
) -> list[tuple[int, str]]:
    """(count, reason) of the skipped tests, most first; a reason says how to enable them."""
    reasons = Counter(skip_reason(report) for report in reports)
    return sorted(((n, reason) for reason, n in reasons.items()), key=lambda g: (-g[0], g[1]))


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason as the test gave it: pytest keeps (path, line, "Skipped: <reason>")."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # pytest's own `-rs` lists skips by file and line, and `-q` shows none: a machine without
    # bubblewrap would pass `make test` with its sandbox untested and nothing said.
    groups = skips_by_reason(terminalreporter.stats.get("skipped", []))
    if groups:
        terminalreporter.write_sep("=", "skipped, by reason")
        for count, reason in groups:
            terminalreporter.write_line(f"{count:4d} {reason}")
