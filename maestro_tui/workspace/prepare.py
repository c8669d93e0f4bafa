"""Preparing a tree like the user's checkout before an agent works or tests run in it.

A git worktree holds only what git tracks: no `.env`, no `node_modules`, no virtualenv. Every
tree maestro-tui makes (a task's worktree, each tree the merge gate tests, the preflight's) is
prepared the same way, from `[worktree]`:

1. `copy`: git-ignored files and folders of the checkout copied in, copy-on-write where the
   filesystem can (`cp --reflink=auto`), a plain copy elsewhere; never a link back into the
   checkout, which an agent would write through.
2. a TCP port of its own, in `$MAESTRO_PORT` and for `{port}` in commands, so two agents'
   dev or test servers never collide;
3. the Python environment: editable installs of the checkout redirected to the tree
   (pyenv.py), and a venv path written relative to the repository (`.venv/bin/pytest`)
   resolved to the checkout's venv when the tree has none of its own;
4. `setup`: commands run in the tree, without a shell, each with a timeout, in the sandbox
   when there is one; a failure raises SetupFailed naming the command and its last lines.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shlex
import shutil
import socket
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maestro_tui.config import Config
from maestro_tui.process import LineSink, ProgramNotFound, Sandbox, run_streaming, shorten
from maestro_tui.workspace.pyenv import PythonEnv, find_python_env
from maestro_tui.workspace.validate import TestResult, run_tests

PORT_ENV = "MAESTRO_PORT"
PORT_RANGE = (41000, 48999)  # below Linux's ephemeral range (32768-60999 overlaps: bind-checked)
SETUP_TAIL_LINES = 20


class SetupFailed(Exception):
    """A tree could not be prepared: the message names the step and ends with its output."""

    def __init__(self, what: str, detail: str = "") -> None:
        self.what = what
        self.detail = detail
        super().__init__(f"worktree setup failed: {what}" + (f"\n{detail}" if detail else ""))


class PortPool:
    """Hands out loopback ports no other prepared tree holds, each free when handed out."""

    def __init__(self, lo: int = PORT_RANGE[0], hi: int = PORT_RANGE[1]) -> None:
        self._lo, self._hi = lo, hi
        self._held: dict[Path, int] = {}
        self._next = lo + os.getpid() % (hi - lo)  # two runs at once start apart
        self._lock = threading.Lock()

    def take(self, tree: Path) -> int:
        with self._lock:
            if tree in self._held:
                return self._held[tree]
            taken = set(self._held.values())
            for _ in range(self._hi - self._lo + 1):
                port, self._next = self._next, self._next + 1
                if self._next > self._hi:
                    self._next = self._lo
                if port not in taken and _free(port):
                    self._held[tree] = port
                    return port
        raise SetupFailed(f"no free TCP port in {self._lo}-{self._hi} for {tree}")

    def release(self, tree: Path) -> None:
        with self._lock:
            self._held.pop(tree, None)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


PORTS = PortPool()  # one pool per process: every run's trees, tasks' and the gate's alike


@dataclass(frozen=True)
class Prepared:
    """A prepared tree: what its processes' environment gets, and its port."""

    tree: Path
    env: Mapping[str, str]
    port: int
    copied: tuple[str, ...] = ()


@dataclass
class Preparer:
    """Prepares trees of one checkout, as `[worktree]` says (see the module docstring)."""

    checkout: Path
    copy: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    setup_timeout_s: float = 600
    python: PythonEnv | None = None
    report: str | None = None  # [tests] report: the JUnit XML file the test command writes
    ports: PortPool = field(default=PORTS)

    @classmethod
    def from_config(
        cls, config: Config, checkout: Path, environ: Mapping[str, str] | None = None
    ) -> Preparer:
        environ = os.environ if environ is None else environ
        python = find_python_env(checkout, environ) if config.worktree_python == "auto" else None
        return cls(
            checkout=checkout.resolve(),
            copy=config.worktree_copy,
            setup=config.worktree_setup,
            setup_timeout_s=config.worktree_setup_timeout_s,
            python=python,
            report=config.test_report,
        )

    def shown_read_only(self) -> tuple[Path, ...]:
        """What a sandbox must show read-only besides the tree: the venv, and the Python
        installation its interpreter links to (pyenv's, in a hidden $HOME, say)."""
        venv = self.python.venv if self.python else None
        if venv is None:
            return ()
        interpreter = Path(os.path.realpath(venv / "bin" / "python"))
        prefix = interpreter.parent.parent if interpreter.parent.name == "bin" else None
        return tuple(p for p in (venv, prefix) if p is not None and p != Path("/usr"))

    def confine(self, sandbox: Sandbox | None) -> Sandbox | None:
        """`sandbox` showing what the prepared trees need from the hidden checkout."""
        if sandbox is None or not self.shown_read_only():
            return sandbox
        return sandbox.showing(*self.shown_read_only())

    async def prepare(
        self,
        tree: Path,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
        on_line: LineSink | None = None,
    ) -> Prepared:
        """Copy, port, Python environment, then the setup commands, in `tree`."""
        port = self.ports.take(tree)
        try:
            copied = await asyncio.to_thread(self._copy_into, tree, on_line)
            added = {PORT_ENV: str(port)}
            if self.python is not None:
                added.update(self.python.env_for(tree, {**env, **added}))
            prepared = Prepared(tree, added, port, copied)
            for command in self.setup:
                await self._run_setup(command, prepared, {**env, **added}, sandbox, on_line)
        except BaseException:
            self.ports.release(tree)
            raise
        return prepared

    async def run_tests(
        self,
        command: str,
        prepared: Prepared,
        timeout_s: float | None,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
    ) -> TestResult:
        """The test command in a prepared tree: its command line, environment and sandbox."""
        return await run_tests(
            self.argv(command, prepared),
            prepared.tree,
            timeout_s,
            env={**env, **prepared.env},
            sandbox=self.confine(sandbox),
            report_file=self.report,
        )

    def release(self, tree: Path) -> None:
        """The tree is gone: its port may go to another."""
        self.ports.release(tree)

    def argv(self, command: str | Sequence[str], prepared: Prepared) -> list[str]:
        """A command line for the tree: `{port}` filled in, and a program named by a path
        relative to the repository that the tree lacks (a git-ignored `.venv/bin/pytest`)
        taken from the checkout."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        argv = [a.replace("{port}", str(prepared.port)) for a in argv]
        if argv and os.sep in argv[0] and not os.path.isabs(argv[0]):
            inside, outside = prepared.tree / argv[0], self.checkout / argv[0]
            if not inside.exists() and outside.exists():
                argv[0] = str(outside)
            else:
                argv[0] = str(inside)
        return argv

    def _copy_into(self, tree: Path, on_line: LineSink | None) -> tuple[str, ...]:
        copied: list[str] = []
        for pattern in self.copy:
            matches = sorted(glob.glob(pattern, root_dir=self.checkout, include_hidden=True))
            if not matches and on_line:
                on_line(f"[maestro] copy: nothing matches {pattern!r} in the checkout", "setup")
            for rel in matches:
                source, target = self.checkout / rel, tree / rel
                if target.exists() or target.is_symlink():
                    continue  # tracked by git (the tree has it), or copied by another pattern
                _copy(source, target)
                copied.append(rel)
        if copied and on_line:
            on_line(f"[maestro] copied from the checkout: {', '.join(copied)}", "setup")
        return tuple(copied)

    async def _run_setup(
        self,
        command: str,
        prepared: Prepared,
        env: Mapping[str, str],
        sandbox: Sandbox | None,
        on_line: LineSink | None,
    ) -> None:
        argv = self.argv(command, prepared)
        if on_line:
            on_line(f"[maestro] setup: {shlex.join(argv)}", "setup")
        try:
            result = await run_streaming(
                argv,
                cwd=prepared.tree,
                env=env,
                timeout_s=self.setup_timeout_s,
                on_line=on_line,
                tail_lines=SETUP_TAIL_LINES,
                sandbox=self.confine(sandbox),
            )
        except ProgramNotFound:
            raise SetupFailed(
                f"`{command}`: {argv[0]!r} is not installed or not on PATH; install it or fix"
                " [worktree] setup in maestro.toml"
            ) from None
        except OSError as exc:
            raise SetupFailed(f"`{command}` cannot start: {exc}") from None
        if result.timed_out:
            raise SetupFailed(
                f"`{command}` took over {self.setup_timeout_s:g} s and was stopped; raise"
                " [worktree] setup_timeout_s",
                result.tail,
            )
        if result.exit_code != 0:
            raise SetupFailed(f"`{command}` exited with code {result.exit_code}", result.tail)


def _copy(source: Path, target: Path) -> None:
    """Copy a file or folder: the top symlink followed, reflinked where the filesystem can."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("cp"):
        done = subprocess.run(
            ["cp", "-R", "-H", "-p", "--reflink=auto", str(source), str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        if "--reflink" not in done.stderr:  # GNU cp failing for real; BSD cp lacks the flag
            raise SetupFailed(f"copying {source}: {shorten(done.stderr.strip(), 400)}")
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)
