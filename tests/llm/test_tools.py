"""ToolBox: every path stays inside the worktree, only allow-listed programs run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from maestro_tui.llm.tools import TOOL_NAMES, TOOL_SCHEMAS, ToolBox
from maestro_tui.workspace.files import list_repo_files
from tests.llm.conftest import child_env
from tests.support.recording import RecordingReporter


def snapshot(*roots: Path) -> dict[str, bytes | str]:
    """Every file (content) and symlink (target) under the roots."""
    seen: dict[str, bytes | str] = {}
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath, name)
                seen[str(path)] = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return seen


def escaped() -> bool:
    return Path("/tmp/maestro-escape").exists()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.txt").write_text("top secret\n")
    return out


@pytest.fixture
def box(repo: Path, reporter: RecordingReporter) -> ToolBox:
    return ToolBox(repo, ["python", "git"], 10, reporter, env=child_env())


def test_schemas_have_the_stable_names() -> None:
    assert TOOL_NAMES == (
        "list_files",
        "read_file",
        "write_file",
        "run_command",
        "publish_finding",
        "finish",
    )
    write = next(t for t in TOOL_SCHEMAS if t["function"]["name"] == "write_file")
    assert write["function"]["parameters"]["required"] == ["path", "content"]


async def test_read_and_write_inside_the_worktree(box: ToolBox, repo: Path) -> None:
    assert "MARKER_A" in await box.execute("read_file", {"path": "pkg/a.py"})
    result = await box.execute("write_file", {"path": "pkg/new/c.py", "content": "C = 3\n"})
    assert result.startswith("ok: created")
    assert (repo / "pkg/new/c.py").read_text() == "C = 3\n"
    assert box.reporter.tools[-1] == {  # type: ignore[attr-defined]
        "tool": "write_file",
        "args": "pkg/new/c.py (6 chars)",
        "ok": True,
        "error": "",
    }


@pytest.mark.parametrize(
    ("tool", "args", "why"),
    [
        ("read_file", {"path": "../outside/secret.txt"}, "leaves the repository"),
        ("read_file", {"path": "/etc/passwd"}, "absolute"),
        ("write_file", {"path": "../x", "content": "x"}, "leaves the repository"),
        ("write_file", {"path": "/tmp/maestro-escape", "content": "x"}, "absolute"),
        ("write_file", {"path": "link/secret.txt", "content": "pwned"}, "resolves outside"),
        ("write_file", {"path": "linkfile", "content": "pwned"}, "resolves outside"),
        ("read_file", {"path": "linkfile"}, "resolves outside"),
        ("write_file", {"path": ".git/config", "content": "x"}, ".git"),
        ("write_file", {"path": "~/x", "content": "x"}, "absolute"),
        ("run_command", {"command": "rm -rf pkg"}, "not an allowed program"),
        ("run_command", {"command": "/bin/rm -rf pkg"}, "not an allowed program"),
        ("run_command", {"command": "bash -c 'rm -rf pkg'"}, "not an allowed program"),
        ("run_command", {"command": "echo 'unclosed"}, "cannot parse"),
        ("read_file", {}, "missing or non-string argument 'path'"),
        ("shell", {"command": "ls"}, "unknown tool"),
    ],
)
async def test_escapes_are_refused_and_touch_nothing(
    box: ToolBox, repo: Path, outside: Path, tool: str, args: dict[str, str], why: str
) -> None:
    (repo / "link").symlink_to(outside, target_is_directory=True)
    (repo / "linkfile").symlink_to(outside / "secret.txt")
    before = snapshot(repo, outside)
    result = await box.execute(tool, args)
    assert result.startswith("error: ") and why in result
    assert snapshot(repo, outside) == before
    assert not escaped()
    event = box.reporter.tools[-1]  # type: ignore[attr-defined]
    assert event["tool"] == tool and event["ok"] is False and why in event["error"]


async def test_python_runs_only_when_allow_listed(repo: Path, reporter: RecordingReporter) -> None:
    command = {"command": "python -c \"print('hi from python')\""}
    allowed = ToolBox(repo, ["python"], 10, reporter, env=child_env())
    result = await allowed.execute("run_command", command)
    assert result.startswith("exit code 0") and "hi from python" in result
    assert ("hi from python", "tool") in reporter.outputs
    refused = ToolBox(repo, ["pytest"], 10, reporter, env=child_env())
    assert "not an allowed program" in await refused.execute("run_command", command)


async def test_no_shell_so_metacharacters_are_plain_arguments(box: ToolBox, repo: Path) -> None:
    result = await box.execute(
        "run_command", {"command": "python -c 'import sys; print(sys.argv)' ; rm -rf pkg"}
    )
    assert result.startswith("exit code 0")
    assert (repo / "pkg" / "a.py").exists()


async def test_failing_command_reports_its_exit_code(box: ToolBox) -> None:
    result = await box.execute("run_command", {"command": "python -c 'raise SystemExit(3)'"})
    assert result.startswith("exit code 3")
    assert box.reporter.tools[-1]["ok"] is False  # type: ignore[attr-defined]


async def test_command_timeout_kills_it(repo: Path, reporter: RecordingReporter) -> None:
    box = ToolBox(repo, ["python"], 0.5, reporter, env=child_env())
    result = await box.execute(
        "run_command", {"command": "python -c 'import time; time.sleep(30)'"}
    )
    assert result.startswith("error: timed out after 0.5s")


async def test_list_files_skips_git_and_ignored(box: ToolBox, repo: Path) -> None:
    (repo / "build").mkdir()
    (repo / "build" / "out.txt").write_text("x")
    (repo / "debug.log").write_text("x")
    (repo / "__pycache__").mkdir()
    (repo / "__pycache__" / "a.pyc").write_bytes(b"x")
    (repo / "untracked.py").write_text("u = 1\n")
    listing = await box.execute("list_files", {})
    names = [line.split(" (")[0] for line in listing.splitlines()]
    assert names == [".gitignore", "README.md", "pkg/a.py", "pkg/b.py", "untracked.py"]


def test_list_repo_files_walks_a_plain_directory(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # a broken git dir: git fails, the walk takes over
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("")
    assert list_repo_files(tmp_path) == ["src/m.py"]


async def test_publish_finding_and_finish(box: ToolBox, reporter: RecordingReporter) -> None:
    assert await box.execute("publish_finding", {"text": "cart has no tests"}) == "ok: published"
    assert reporter.findings == ["cart has no tests"]
    assert (await box.execute("finish", {"summary": "done"})).startswith("ok")
    assert (await box.execute("finish", "bad JSON")).startswith("error: bad JSON")
