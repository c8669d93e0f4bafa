"""Fixtures for the models layer: a loopback chat server, a recording reporter, git repos."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llm.fakeserver import FakeChatServer
from tests.support.recording import RecordingReporter

API_KEY = "sk-test-4f1c2a9be0d7secret"
GIT_ID = ["-c", "user.name=test", "-c", "user.email=test@localhost"]


def pytest_configure(config: pytest.Config) -> None:
    # litellm 1.106 touches pydantic attributes that pydantic 2.11 deprecates: not ours.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:litellm")


@pytest.fixture(autouse=True)
def _no_demo_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0")


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    srv = FakeChatServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *GIT_ID, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return proc.stdout


def child_env() -> dict[str, str]:
    """An environment whose `python` is this interpreter (it has pytest).

    Plugin autoload is off: the sample repo needs none, and it saves ~0.5 s per pytest run.
    """
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {
        "PATH": path,
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small git repo with one commit."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("MARKER_A = 1\n\n\ndef alpha():\n    return 1\n")
    (root / "pkg" / "b.py").write_text("MARKER_B = 2\n\n\nclass Beta:\n    pass\n")
    (root / "README.md").write_text("# repo\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root
