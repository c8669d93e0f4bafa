"""Fixtures for the real-CLI tests: a git worktree outside `.git/`, and a lab per CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli.helpers import git
from tests.agents.cli_harness import CLIS, Lab
from tests.agents.servers.core import Step


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A task worktree beside (not inside) its repository's `.git/`, with two files."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# sample\n")
    (repo / "greet.py").write_text('def greet():\n    return "hello"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    path = tmp_path / "worktrees" / "task-1"
    git(repo, "worktree", "add", "-q", "-b", "task-1", str(path))
    return path


@pytest.fixture
def make_lab(tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """make_lab(cli_name, script): the CLI's server started inside a fresh namespace."""
    labs: list[Lab] = []

    def build(name: str, script: Iterable[Step] = ()) -> Lab:
        reason = netns.unavailable_reason() or CLIS[name].missing_reason()
        if reason:
            pytest.skip(reason)
        ns = netns.NetNamespace()
        server = CLIS[name].server(script).start(ns)
        lab = Lab(CLIS[name], ns, server, tmp_path / f"lab-{name}-{len(labs)}")
        labs.append(lab)
        return lab

    yield build
    for lab in labs:
        lab.server.stop()
        lab.netns.close()
