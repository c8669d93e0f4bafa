"""Run the git CLI without a shell, with an environment that cannot point it at another repo."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Variables a parent git process (a hook, `git rebase --exec`) may leave set; any of them would
# send our commands to the wrong repository or index.
_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
)

_FALLBACK = {"user.name": "maestro-tui", "user.email": "maestro-tui@localhost"}
FALLBACK_IDENTITY = tuple(
    arg for key, value in _FALLBACK.items() for arg in ("-c", f"{key}={value}")
)


def fallback_identity_env() -> dict[str, str]:
    """The fallback identity as configuration in the environment (git 2.31+), for programs
    that ask `git config` for one: Aider, finding none, writes a placeholder into the
    repository's own config, shared by every worktree, and its parallel copies then crash on
    one another's lock. Nothing is written this way."""
    env = {"GIT_CONFIG_COUNT": str(len(_FALLBACK))}
    for i, (key, value) in enumerate(_FALLBACK.items()):
        env |= {f"GIT_CONFIG_KEY_{i}": key, f"GIT_CONFIG_VALUE_{i}": value}
    return env


class WorkspaceError(Exception):
    """A git operation that cannot go ahead; the message says what is wrong and what to do."""


def git_env() -> dict[str, str]:
    """The current environment minus repository-location variables, with stable git output."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARS}
    # English messages (we parse some), no prompts, and no index refresh lock taken by
    # `git status` while the user's own git may be running.
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    return env


@dataclass(frozen=True, slots=True)
class GitResult:
    code: int
    out: str
    err: str


class Git:
    """Runs `git` for one repository with a fixed environment and `-c` options."""

    def __init__(self, root: Path, env: Mapping[str, str], options: Sequence[str] = ()) -> None:
        self.root = root
        self.env = dict(env)
        self.options = list(options)

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        stdin: str | bytes | None = None,
        ok: Container[int] = (0,),
        env: Mapping[str, str] | None = None,
    ) -> GitResult:
        """Run `git <args>`; an exit code not in `ok` raises WorkspaceError with git's stderr."""
        data = stdin.encode() if isinstance(stdin, str) else stdin
        run_env = {**self.env, **env} if env else self.env
        try:
            proc = subprocess.run(
                ["git", *self.options, *args],
                cwd=cwd or self.root,
                input=data,
                capture_output=True,
                env=run_env,
                check=False,
            )
        except FileNotFoundError as exc:
            if cwd is not None and not Path(cwd).is_dir():
                raise WorkspaceError(f"{cwd} does not exist: the worktree was removed") from exc
            raise WorkspaceError("git is not on PATH: install git 2.38 or newer") from exc
        # Decode by hand: text=True would turn CRLF into LF in file contents.
        out = proc.stdout.decode("utf-8", "surrogateescape")
        err = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode not in ok:
            where = cwd or self.root
            detail = err or out.strip() or f"exit status {proc.returncode}"
            raise WorkspaceError(f"`git {' '.join(args[:3])}` failed in {where}: {detail}")
        return GitResult(proc.returncode, out, err)
