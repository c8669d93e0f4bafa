"""Real git repositories on tmp_path for the workspace tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

IDENTITY = ("-c", "user.name=Fixture", "-c", "user.email=fixture@example.com")


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stdout (raises on failure)."""
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, *, identity: bool = True) -> Path:
    """A repository on branch main with one commit of a few files."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Test User")
        git(path, "config", "user.email", "test@example.com")
    (path / "README.md").write_text("# demo\n")
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    (path / "src" / "util.py").write_text("def f():\n    return 1\n")
    (path / ".gitignore").write_text("*.log\n__pycache__/\n")
    git(path, "add", "-A")
    git(path, *IDENTITY, "commit", "-q", "-m", "initial commit")
    return path


def commit_file(repo: Path, branch: str, path: str, text: str | None, message: str = "edit") -> str:
    """Commit `text` (None: delete) at `path` on `branch`, leaving the checkout alone."""
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git" / "tmp-index")}

    def run(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            ["git", *IDENTITY, *args], cwd=repo, env=env, input=stdin,
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip

    parent = run("rev-parse", f"refs/heads/{branch}")
    run("read-tree", parent)
    if text is None:
        run("update-index", "--force-remove", path)
    else:
        blob = run("hash-object", "-w", "--stdin", stdin=text)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    sha = run("commit-tree", run("write-tree"), "-p", parent, "-m", message)
    run("update-ref", f"refs/heads/{branch}", sha)
    Path(env["GIT_INDEX_FILE"]).unlink()
    return sha


# A ten-line file, and one line of it changed: what the merge tests edit.
APP = "".join(f"line {n}\n" for n in range(1, 11))


def edit_line(n: int, text: str) -> str:
    lines = APP.splitlines(keepends=True)
    lines[n - 1] = text + "\n"
    return "".join(lines)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A repo with an initial commit and a local identity (only in its own config)."""
    return make_repo(tmp_path / "repo")
