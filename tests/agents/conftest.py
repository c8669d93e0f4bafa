"""Shared pieces for worker tests: a recording reporter and a job in a temporary worktree."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.agents.base import WorkerJob
from maestro_tui.domain.plan import Task
from tests.support.recording import RecordingReporter


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "worktree"
    path.mkdir()
    return path


@pytest.fixture
def make_job(worktree: Path) -> Callable[..., WorkerJob]:
    """Build a job for task t1: Task fields (title, prompt, files) then WorkerJob fields."""

    def build(**changes: Any) -> WorkerJob:
        task_fields = {k: changes.pop(k) for k in ("title", "prompt", "files") if k in changes}
        task = Task(
            id="t1", **{"title": "Add a greeting", "prompt": "Write hello.py", **task_fields}
        )
        return WorkerJob(run_id="run-7", task=task, attempt=2, worktree=worktree, **changes)

    return build


@pytest.fixture
def script(tmp_path: Path) -> Callable[[str], list[str]]:
    """Write a Python script into tmp_path; return the argv prefix that runs it."""
    count = 0

    def write(source: str) -> list[str]:
        nonlocal count
        count += 1
        path = tmp_path / f"script{count}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return [sys.executable, str(path)]

    return write
