"""Preflight: the test command tried once on the base, before the first token is spent.

One scratch checkout of the base is prepared exactly like a task's worktree ([worktree]:
copy, port, Python, setup, the sandbox) and the test command runs there. What it finds:

- the command cannot run (not found, not executable, a setup step fails, a runner exits
  126/127 because a program it starts is missing): `PreflightRefused`, bad input;
- the tests would import the project's Python packages from outside the tree (an editable
  or plain install of the user's checkout): `PreflightRefused`, with the fix;
- the base is red: `Preflight.result` says so with its failing tests, for the caller to ask;
- how long one run of the tests takes on the base.

The scratch checkout is removed afterwards, whatever happens: nothing is left behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.config import Config
from maestro_tui.process import Sandbox, run_streaming
from maestro_tui.workspace.prepare import Prepared, Preparer, SetupFailed
from maestro_tui.workspace.pyenv import find_python_env
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult

CANNOT_RUN_CODES = (126, 127)  # a shell or runner: "not executable", "not found"
IMPORT_CHECK_TIMEOUT_S = 60.0
# Prints where each named top-level module would be imported from, as JSON.
_WHERE = (
    "import importlib.util as u, json, sys\n"
    "def origin(n):\n"
    "    try:\n"
    "        s = u.find_spec(n)\n"
    "    except Exception:\n"
    "        return None\n"
    "    return s and (s.origin if s.origin not in (None, 'namespace') else"
    " (list(s.submodule_search_locations or []) or [None])[0])\n"
    "print(json.dumps({n: origin(n) for n in sys.argv[1:]}))\n"
)


class PreflightRefused(ValueError):
    """The test command cannot decide anything on this repository: the message says what is
    wrong and what to change. Bad input (exit code 2), found before anything is recorded."""


@dataclass(frozen=True)
class Preflight:
    """The test command's result on the base, prepared like a task's tree."""

    commit: str
    tree: str  # the base's tree id: what the gate knows as tested
    result: TestResult

    @property
    def red(self) -> bool:
        return not self.result.passed

    @property
    def failing(self) -> frozenset[str]:
        return self.result.failing

    def summary(self) -> str:
        """One line: green or red, with the counts and the time one run took."""
        r = self.result
        counts = f"{r.n_passed} passed, {r.n_failed} failed, " if r.n_passed is not None else ""
        state = "green" if r.passed else "RED"
        return f"preflight: the base's tests are {state} ({counts}{r.duration_s:.1f} s)"


async def preflight(
    ws: Workspace,
    config: Config,
    commit: str,
    env: Mapping[str, str],
    sandbox: Sandbox | None = None,
    say: Callable[[str], None] | None = None,
) -> Preflight | None:
    """Try the test command on `commit` (see the module docstring); None without one."""
    if not config.test_command.strip():
        return None
    preparer = Preparer.from_config(config, ws.root)
    (tree,) = await asyncio.to_thread(ws.rev_parse, f"{commit}^{{tree}}")
    owner = f".preflight-{os.getpid()}"
    path = ws.scratch_path(owner, "base")
    try:
        await asyncio.to_thread(ws.add_scratch_worktree, path, commit)
        writable = sandbox and sandbox.for_task(path)  # the preparer shows what it needs
        prepared = await _prepare(preparer, path, env, writable, say)
        await _check_imports(preparer, path, {**env, **prepared.env}, config)
        result = await preparer.run_tests(
            config.test_command, prepared, config.test_timeout_s, env, writable
        )
        _refuse_if_cannot_run(config.test_command, result)
        return Preflight(commit, tree, result)
    finally:
        preparer.release(path)
        await asyncio.shield(asyncio.to_thread(_remove, ws, path, ws.worktrees_dir() / owner))


def _remove(ws: Workspace, path: Path, folder: Path) -> None:
    ws.remove_worktree(path)
    shutil.rmtree(folder, ignore_errors=True)


async def _prepare(
    preparer: Preparer,
    path: Path,
    env: Mapping[str, str],
    sandbox: Sandbox | None,
    say: Callable[[str], None] | None,
) -> Prepared:
    def line(text: str, stream: str) -> None:
        if say and text.startswith("[maestro]"):
            say(text.removeprefix("[maestro] "))

    try:
        return await preparer.prepare(path, env, sandbox, line)
    except SetupFailed as exc:
        raise PreflightRefused(
            f"{exc}\nFix [worktree] setup in maestro.toml (or the project), then run again;"
            " `maestro-tui doctor` tries it without starting a run."
        ) from None


def _refuse_if_cannot_run(command: str, result: TestResult) -> None:
    if result.timed_out:
        return  # it ran: a slow suite is the base's state, said as red
    if result.exit_code is None:
        raise PreflightRefused(
            f"[tests] command {command!r} cannot run: {result.output_tail.strip()}"
        )
    if result.exit_code in CANNOT_RUN_CODES:
        tail = "\n".join(result.output_tail.strip().splitlines()[-8:])
        raise PreflightRefused(
            f"[tests] command {command!r} exited with code {result.exit_code}: a program it"
            f" runs is missing or not executable in a fresh worktree:\n{tail}\n"
            "Git-ignored things the tests need (node_modules, a venv, .env) are not in a"
            ' worktree: add [worktree] setup (e.g. "npm ci --prefer-offline") or copy'
            " in maestro.toml; `maestro-tui init` suggests them for your toolchain."
        )


async def _check_imports(
    preparer: Preparer, tree: Path, env: Mapping[str, str], config: Config
) -> None:
    """Refuse when the project's packages would be imported from outside `tree` (found
    even where [worktree] python = "off" leaves them alone)."""
    found = preparer.python or find_python_env(preparer.checkout, os.environ)
    names = list(found.packages) if found else _src_packages(tree)
    python = (found.python if found else None) or shutil.which("python3", path=env.get("PATH"))
    if not names or python is None:
        return
    result = await run_streaming(
        [python, "-c", _WHERE, *names], cwd=tree, env=env, timeout_s=IMPORT_CHECK_TIMEOUT_S
    )
    try:
        where: dict[str, str | None] = json.loads(result.tail.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return  # the interpreter could not answer: the tests will say more
    outside = _outside(where, tree)
    if not outside:
        return
    lines = "\n".join(f"  {n} -> {o}" for n, o in sorted(outside.items()))
    fix = (
        'set [worktree] python = "auto" in maestro.toml'
        if config.worktree_python == "off"
        else "install the project editable in that environment (pip install -e . or uv sync),"
        " so maestro-tui can point it at each worktree"
    )
    raise PreflightRefused(
        "the tests would import the project's code from outside the tree they test, so no"
        f" agent's change would ever be tested:\n{lines}\nFix: {fix}; or run the tests"
        " through a setup that installs the worktree itself (e.g. [worktree] setup ="
        f' ["uv sync --frozen"] with command "uv run pytest"). Test command: '
        f"{shlex.quote(config.test_command)}"
    )


def _outside(where: Mapping[str, str | None], tree: Path) -> dict[str, str]:
    """The modules found, and where, that are not in `tree`."""
    real = tree.resolve()
    return {n: o for n, o in where.items() if o and not Path(o).resolve().is_relative_to(real)}


def _src_packages(tree: Path) -> list[str]:
    src = tree / "src"
    if not src.is_dir():
        return []
    return sorted(p.name for p in src.iterdir() if (p / "__init__.py").is_file())
