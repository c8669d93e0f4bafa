"""Fixtures for the models layer: a loopback chat server, a recording reporter, git repos."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.llm.fakeserver import FakeChatServer

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


@dataclass
class RecordingReporter:
    """A Reporter that keeps every call, for assertions."""

    outputs: list[tuple[str, str]] = field(default_factory=list)
    usages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.outputs.append((text, stream))

    def usage(
        self,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float | None,
        latency_s: float = 0.0,
        simulated: bool = False,
    ) -> None:
        self.usages.append(
            dict(
                model=model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=cost_usd,
                latency_s=latency_s,
                simulated=simulated,
            )
        )

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None:
        self.tools.append(dict(tool=tool, args=args, ok=ok, error=error))

    def finding(self, text: str) -> None:
        self.findings.append(text)


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
