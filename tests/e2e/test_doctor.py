"""`maestro-tui doctor` on real repositories: a checklist, exit 0 only when a run would work,
and nothing left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.conftest import git, run_cli, worktrees


def doctor(project: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("doctor", "--repo", str(project), "--db", str(tmp_path / "runs.db"))


def test_a_ready_repository_passes_with_every_item_shown(project: Path, tmp_path: Path) -> None:
    done = doctor(project, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for line in (
        "[  ok] git repository",
        "[  ok] configuration",
        "[  ok] test command",
        "1 passed, 0 failed",
        "[  ok] fake: program found",
        "[  ok] sandbox",
        "[  ok] database",
        "everything a run needs is there.",
    ):
        assert line in out, out
    assert worktrees(project) == [str(project)]
    assert not (tmp_path / "runs.db").exists()


def test_what_a_run_would_miss_fails_it(project: Path, tmp_path: Path) -> None:
    config = (project / "maestro.toml").read_text()
    config = config.replace('command = "env', 'command = "no-such-runner -q #', 1)
    config += '\n[workers.other]\nargv = ["no-such-agent", "{prompt}"]\n'
    (project / "maestro.toml").write_text(config)
    git(project, "commit", "-qam", "break the config")
    done = doctor(project, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[FAIL] test command `no-such-runner" in done.stdout
    assert "[FAIL] other: program not found" in done.stdout
    assert "problem(s)" in done.stdout
    assert worktrees(project) == [str(project)]


def test_a_red_base_is_a_warning_not_a_failure(project: Path, tmp_path: Path) -> None:
    (project / "tests" / "test_red.py").write_text("def test_red():\n    assert False\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a red test")
    done = doctor(project, tmp_path)
    assert done.returncode == 0, done.stdout
    assert "[warn] the base's tests: preflight: the base's tests are RED" in done.stdout
    assert "tests/test_red.py::test_red" in done.stdout


def test_a_dead_model_endpoint_of_a_planned_worker_is_refused_before_the_run(
    project: Path, tmp_path: Path
) -> None:
    import socket
    import sys

    from tests.e2e.conftest import FAKE_AGENT

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = (project / "maestro.toml").read_text()
    config += (
        f'\n[workers.gem]\nargv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]\n'
        'parser = "gemini"\n'
        f'env = {{ GOOGLE_GEMINI_BASE_URL = "http://127.0.0.1:{port}" }}\n'
    )
    (project / "maestro.toml").write_text(config)
    git(project, "commit", "-qam", "a gemini worker")
    plan = tmp_path / "plan.toml"
    plan.write_text('[[tasks]]\nid = "a"\nworker = "gem"\nprompt = "@write x.txt :: x"\n')
    done = run_cli(
        "run", "--plan", str(plan), "--repo", str(project), "--headless", "--yes",
        "--db", str(tmp_path / "runs.db"),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"gem: model endpoint http://127.0.0.1:{port} unreachable" in done.stderr
    assert "GOOGLE_GEMINI_BASE_URL" in done.stderr
    assert not (tmp_path / "runs.db").exists()
    assert git(project, "branch", "--list", "maestro*") == ""
