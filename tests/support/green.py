"""Check a branch the hard way: run the test command on every commit of its first-parent line."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return out.stdout


def first_parents(repo: Path, branch: str, since: str | None = None) -> list[str]:
    """The branch's first-parent commits, newest first (`since` excluded)."""
    rev = f"{since}..{branch}" if since else branch
    return _git(repo, "rev-list", "--first-parent", rev).split()


def red_commits(repo: Path, branch: str, command: str, since: str | None = None) -> list[str]:
    """The first-parent commits of `branch` on which `command` fails (none: it is green)."""
    red = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="green-") as tmp:
        for n, commit in enumerate(first_parents(repo, branch, since)):
            path = Path(tmp) / str(n)
            _git(repo, "worktree", "add", "-q", "--detach", str(path), commit)
            try:
                run = subprocess.run(
                    shlex.split(command), cwd=path, capture_output=True, text=True, env=env
                )
                if run.returncode != 0:
                    red.append(commit)
            finally:
                _git(repo, "worktree", "remove", "--force", str(path))
    return red
