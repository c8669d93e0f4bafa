"""Confine an agent's processes with bubblewrap (`bwrap`): what they see, write and reach.

Inside the sandbox the whole filesystem is mounted read-only; then, in order of depth:
- `$HOME` (the one the process is given, and the user's own) is an empty, writable, throwaway
  tmpfs, and so is `/tmp`: what an agent writes there never reaches the disk;
- hidden places (the user's checkout, the worktree root with every task's worktree, the
  user's runtime sockets) become empty read-only folders: reading finds nothing, writing
  fails with EROFS;
- the git metadata is shown again read-only (`git status`, `git diff`, `git log` work; the
  run, not the agent, commits);
- the task's worktree and its agent folder are shown read-write, and so are the entries of
  the home allow-list (a coding CLI's own config folder, where it keeps logins and sessions).
With `network = False` the sandbox has a network namespace of its own: only its own
loopback, on which nothing of the host listens. Processes run in their own PID namespace
and die with the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from maestro_tui.config import Config, ConfigError
from maestro_tui.process.loopback import FORWARDER, forwarded, loopback_relay
from maestro_tui.process.programs import ProgramNotFound

INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"
NO_SANDBOX_HINT = 'or set [sandbox] kind = "none" in maestro.toml to run agents unconfined'
USERNS_HINT = (
    "bubblewrap needs user namespaces: enable them (sysctl kernel.unprivileged_userns_clone=1;"
    " on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0; in a container,"
    " allow unshare/user namespaces)"
)
CHECK_TIMEOUT_S = 60.0
# _GIT_LINK: a worktree's `.git` (a file naming its git dir) stays read-only in the sandbox.
# The run commits there, outside the sandbox, after the agent: pointed at a git dir of the
# agent's making (its config's core.fsmonitor, its hooks), git would run the agent's code.
# Op ranks at one depth: a folder is masked before anything is shown inside it.
_MASK, _RO, _RW = 0, 1, 2


class SandboxUnavailable(ConfigError):
    """The sandbox the configuration asks for cannot start on this machine."""


@dataclass(frozen=True)
class Sandbox:
    """How one task's processes are confined: see the module docstring."""

    program: str = "bwrap"
    network: bool = True
    writable: tuple[Path, ...] = ()  # the worktree, the agent's folder
    read_only: tuple[Path, ...] = ()  # shown even where hidden: the git metadata
    hidden: tuple[Path, ...] = ()  # the user's checkout, the worktree root, sockets
    home_allow: tuple[str, ...] = ()  # $HOME-relative, shown read-write
    # With the network off: ports of this machine's 127.0.0.1 still reachable inside, on the
    # sandbox's own 127.0.0.1 (a local model server), through unix sockets (loopback.py).
    loopback_ports: tuple[int, ...] = ()

    @classmethod
    def for_run(
        cls, config: Config, checkout: Path, git_dir: Path, worktree_roots: Sequence[Path]
    ) -> Sandbox | None:
        """The run's sandbox, from [sandbox]: its checkout and every worktree root hidden, its
        git metadata shown read-only; None when `kind = "none"`."""
        if config.sandbox_kind == "none":
            return None
        shown = (checkout / os.path.expanduser(p) for p in config.sandbox_read_only)
        return cls(
            program=config.sandbox_program,
            network=config.sandbox_network,
            read_only=(git_dir, *shown),
            hidden=(checkout, *worktree_roots, *map(Path, config.sandbox_hide)),
            home_allow=config.sandbox_home_allow,
            loopback_ports=config.sandbox_loopback_ports,
        )

    def for_task(self, *writable: Path) -> Sandbox:
        """This sandbox with a task's worktree and agent folder shown read-write."""
        return replace(self, writable=self.writable + writable)

    def showing(self, *read_only: Path) -> Sandbox:
        """This sandbox with more places shown read-only, even inside hidden ones (the
        checkout's venv, which prepared trees use)."""
        added = tuple(p for p in read_only if p not in self.read_only)
        return replace(self, read_only=self.read_only + added) if added else self

    def allowing(self, home_allow: Sequence[str]) -> Sandbox:
        """This sandbox with more of $HOME shown (a worker's own config folder)."""
        added = tuple(e for e in home_allow if e not in self.home_allow)
        return replace(self, home_allow=self.home_allow + added) if added else self

    @contextlib.asynccontextmanager
    async def confined(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]
    ) -> AsyncIterator[tuple[list[str], dict[str, str]]]:
        """(the command line, the environment) that run `argv` (program found) confined; with
        the network off, the loopback ports are relayed while the block runs."""
        bwrap = shutil.which(self.program)
        if bwrap is None:
            raise ProgramNotFound(self.program)
        sandbox = replace(self, program=bwrap)
        if self.network or not self.loopback_ports:
            yield sandbox.wrap(argv, cwd, env), self.environment(env)
            return
        async with loopback_relay(self.loopback_ports) as folder:
            shown = replace(sandbox, read_only=(*self.read_only, folder, FORWARDER.parent))
            inside = forwarded(argv, folder, self.loopback_ports)
            yield shown.wrap(inside, cwd, env), self.environment(env)

    def wrap(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> list[str]:
        """The bwrap command line that runs `argv` (program resolved) in `cwd`, confined."""
        shown = _installations(argv, [_real(h) for h in _homes(env)])
        return [self.program, *self.options(cwd, env, shown), "--", *argv]

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """`env` adjusted for the inside: TMPDIR must be a place the agent may write."""
        inside = dict(env)
        tmp = inside.get("TMPDIR")
        if tmp and not any(_under(Path(tmp), w) for w in self.writable):
            inside["TMPDIR"] = "/tmp"
        return inside

    def options(
        self, cwd: Path, env: Mapping[str, str], programs: Sequence[Path] = ()
    ) -> list[str]:
        """bwrap's options; `programs`: installations shown read-only wherever they are."""
        ops: list[tuple[int, int, list[str]]] = []
        masked: list[Path] = []
        homes = _homes(env)
        hidden = list(dict.fromkeys(map(_real, self.hidden)))
        for home in homes:
            ops.append((_depth(home), _MASK, ["--tmpfs", str(home)]))
        for path in hidden:
            if path in homes:  # a checkout that is $HOME itself: $HOME stays writable
                continue
            if path.is_dir():
                ops.append((_depth(path), _MASK, ["--tmpfs", str(path)]))
                masked.append(path)
            elif path.exists():  # a socket or a file: hidden behind an empty one
                ops.append((_depth(path), _MASK, ["--ro-bind", "/dev/null", str(path)]))
        for path in dict.fromkeys([*map(_real, self.read_only), *programs]):
            ops.append((_depth(path), _RO, ["--ro-bind-try", str(path), str(path)]))
        shown = [*map(_real, self.writable)]
        for path in shown:  # a worktree's .git file: see _GIT_LINK
            ops.append((_depth(path) + 1, _RO, ["--ro-bind-try", *[str(path / ".git")] * 2]))
        if homes:
            shown += [homes[0] / _home_relative(e) for e in self.home_allow]
        for path in shown:
            ops.append((_depth(path), _RW, ["--bind-try", str(path), str(path)]))
        ops.sort(key=lambda op: (op[0], op[1]))
        argv = [
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session",
        ]  # fmt: skip
        if not self.network:
            argv.append("--unshare-net")
        for _, _, op in ops:
            argv += op
        for path in masked:  # last: the folders shown inside were mounted first
            argv += ["--remount-ro", str(path)]
        return [*argv, "--chdir", str(cwd)]

    def check(self) -> None:
        """Start `true` in this sandbox; SandboxUnavailable, saying why and what to do, when
        bwrap is missing or cannot make its namespaces."""
        program = shutil.which(self.program)
        if program is None:
            raise SandboxUnavailable(
                f"[sandbox] kind = \"bwrap\" but '{self.program}' is not installed or not on"
                f" PATH: {INSTALL_HINT}, {NO_SANDBOX_HINT}"
            )
        argv = [program, *self.options(Path("/"), {}), "--", "true"]
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(
                f"bubblewrap ('{program}') cannot start: {exc}; {NO_SANDBOX_HINT}"
            ) from exc
        if done.returncode != 0:
            said = done.stderr.strip() or f"exit code {done.returncode}"
            hint = USERNS_HINT if _about_namespaces(said) else INSTALL_HINT
            raise SandboxUnavailable(
                f"bubblewrap ('{program}') cannot make a sandbox here: {said}; {hint},"
                f" {NO_SANDBOX_HINT}"
            )


def _installations(argv: Sequence[str], homes: Sequence[Path] = ()) -> list[Path]:
    """Where the programs of a command line are installed: the program itself and, after
    `env`, the program it runs (`env … /venv/bin/python`), each symlink followed; a `bin/`
    folder's parent (a venv, a prefix), else the folder. Shown read-only, so that a program
    installed in a hidden place ($HOME: pyenv, nvm, ~/.local; a venv in the checkout) runs.

    Only programs: other arguments may come from the agent (its commands' arguments), and
    naming a file must not show a folder. Nor is $HOME, or a folder holding it, ever shown
    for a `~/bin/tool`: then only `~/bin` is.
    """
    programs = [*argv[:1]]
    if argv and os.path.basename(argv[0]) == "env":
        rest = [a for a in argv[1:] if not a.startswith("-") and "=" not in a]
        programs += rest[:1]
    found: list[Path] = []
    for arg in programs:
        path = Path(arg)
        for _ in range(10):  # a chain of symlinks, each link's folder included
            if not (path.is_absolute() and path.is_file() and os.access(path, os.X_OK)):
                break
            folder = Path(os.path.realpath(path.parent))
            prefix = folder.parent if folder.name == "bin" else folder
            if any(home == prefix or _under(home, prefix) for home in homes):
                prefix = folder
            found.append(prefix)
            if not path.is_symlink():
                break
            path = path.parent / os.readlink(path)
    return list(dict.fromkeys(found))


def _about_namespaces(message: str) -> bool:
    words = ("namespace", "uid map", "unshare", "operation not permitted", "setuid")
    return any(w in message.lower() for w in words)


def _homes(env: Mapping[str, str]) -> list[Path]:
    """The $HOME the process gets, then the user's own home when it differs: both hidden."""
    found: list[Path] = []
    candidates = [env.get("HOME", "")]
    try:
        candidates.append(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        pass
    for raw in candidates:
        if raw and Path(raw).is_absolute() and _real(Path(raw)) != Path("/"):
            home = _real(Path(raw))
            if home not in found:
                found.append(home)
    return found


def _home_relative(entry: str) -> str:
    """'~/.claude', '$HOME/.claude' or '.claude' -> '.claude'."""
    for prefix in ("~/", "$HOME/"):
        entry = entry.removeprefix(prefix)
    return entry.lstrip("/")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(str(path))))


def _depth(path: Path) -> int:
    return len(path.parts)


def _under(path: Path, folder: Path) -> bool:
    return _real(path).is_relative_to(_real(folder))
