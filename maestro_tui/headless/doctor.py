"""`maestro-tui doctor`: everything a run on this repository needs, checked now, as a checklist.

Nothing is recorded and nothing is left behind: the preflight's scratch tree is removed, the
database is only opened. Exit 0 only when every item a run needs is there; warnings (a red
base, a desktop notifier that is not installed) are shown and do not fail it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from maestro_tui.agents.readiness import check_worker
from maestro_tui.config import Config, ConfigError, load_config
from maestro_tui.config.presets import PRESETS, WorkerSpec
from maestro_tui.session.inputs import check_sandbox
from maestro_tui.session.outcome import EXIT_BAD_INPUT, EXIT_OK
from maestro_tui.session.preflight import PreflightRefused, check_tests
from maestro_tui.workspace.pyenv import find_python_env
from maestro_tui.workspace.repo import Workspace, WorkspaceError

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Item:
    """One line of the checklist."""

    status: str  # OK, WARN or FAIL
    what: str
    detail: str = ""


async def doctor(
    repo: Path, config_path: Path | None, db_path: Path, out: TextIO = sys.stdout
) -> int:
    """Print the checklist; EXIT_OK only when nothing FAILed."""
    items: list[Item] = []

    def add(item: Item) -> None:
        items.append(item)
        detail = f": {item.detail}" if item.detail else ""
        print(f"[{item.status:>4}] {item.what}{detail}", file=out, flush=True)

    try:
        ws = Workspace.open(repo)
        add(Item(OK, "git repository", str(ws.root)))
        config = load_config(ws.root, config_path)
        add(Item(OK, "configuration", str(config.path or "defaults (no maestro.toml)")))
    except (WorkspaceError, ConfigError) as exc:
        add(Item(FAIL, "repository and configuration", str(exc)))
        return _verdict(items, out)
    add(_python_environment(ws, config))
    for item in await _tests(ws, config):
        add(item)
    for item in _workers(config):
        add(item)
    add(_sandbox(ws, config))
    for item in _notifications(config):
        add(item)
    add(_database(db_path))
    return _verdict(items, out)


def _verdict(items: list[Item], out: TextIO) -> int:
    failed = [i for i in items if i.status == FAIL]
    if failed:
        print(f"\n{len(failed)} problem(s): a run here would not work as it should.", file=out)
        return EXIT_BAD_INPUT
    print("\neverything a run needs is there.", file=out)
    return EXIT_OK


def _python_environment(ws: Workspace, config: Config) -> Item:
    found = find_python_env(ws.root, os.environ)
    if found is None:
        return Item(OK, "Python environment", "no editable install of this checkout to redirect")
    if config.worktree_python == "off":
        return Item(WARN, "Python environment", found.describe() + '; [worktree] python = "off"')
    return Item(OK, "Python environment", found.describe() + "; redirected to each worktree")


async def _tests(ws: Workspace, config: Config) -> list[Item]:
    if not config.test_command.strip():
        return [Item(WARN, "test command", "none ([tests] command): results are not validated")]
    said: list[str] = []
    try:
        found = await check_tests(ws, config, None, None, said.append, ask=lambda _: True)
    except PreflightRefused as exc:
        return [Item(FAIL, f"test command `{config.test_command}`", str(exc))]
    items = [Item(OK, "worktree preparation", line) for line in said if _about_setup(line)]
    if found is None:
        return items
    if found.red:
        failing = ", ".join(sorted(found.failing)[:5]) or found.result.output_tail[-300:]
        items.append(Item(WARN, "the base's tests", f"{found.summary()}; failing: {failing}"))
    else:
        items.append(Item(OK, f"test command `{config.test_command}`", found.summary()))
    return items


def _about_setup(line: str) -> bool:
    return line.startswith(("setup:", "copied", "copy:"))


def _workers(config: Config) -> Iterator[Item]:
    env = dict(os.environ)
    for spec in _used_workers(config):
        for finding in check_worker(spec, env):
            yield Item(OK if finding.ok else FAIL, finding.what, finding.detail)


def _used_workers(config: Config) -> list[WorkerSpec]:
    """The default worker and every worker the configuration sets up itself."""
    names = [config.task_worker]
    names += [n for n, s in config.workers.items() if PRESETS.get(n) != s and n not in names]
    specs = [config.workers[n] for n in names if n in config.workers]
    # The built-in LLM worker works with [llm] model unless its table names another.
    return [replace(s, model=config.model) if s.kind == "llm" and not s.model else s for s in specs]


def _sandbox(ws: Workspace, config: Config) -> Item:
    if config.sandbox_kind == "none":
        return Item(OK, "sandbox", 'none ([sandbox] kind = "none"): agents run with your rights')
    try:
        check_sandbox(ws, config)
    except ConfigError as exc:
        return Item(FAIL, "sandbox", str(exc))
    return Item(OK, "sandbox", f"{config.sandbox_kind} starts here")


def _notifications(config: Config) -> Iterator[Item]:
    if config.notify_command:
        program = config.notify_command[0]
        if shutil.which(program) or Path(program).is_file():
            yield Item(OK, "notification hook", " ".join(config.notify_command))
        else:
            yield Item(FAIL, "notification hook", f"{program!r} is not installed or not on PATH")
    if config.notify_desktop:
        if shutil.which("notify-send"):
            yield Item(OK, "desktop notifications", "notify-send")
        else:
            yield Item(WARN, "desktop notifications", "notify-send is not installed")


def _database(db_path: Path) -> Item:
    folder = db_path.parent
    try:
        if db_path.exists():
            with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as con:
                con.execute("select count(*) from sqlite_master").fetchone()
            return Item(OK, "database", str(db_path))
        probe = _nearest_existing(folder)
        if os.access(probe, os.W_OK):
            return Item(OK, "database", f"{db_path} (made by the first run)")
        return Item(FAIL, "database", f"cannot create {db_path}: {probe} is not writable")
    except sqlite3.Error as exc:
        return Item(FAIL, "database", f"{db_path}: {exc}")


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
