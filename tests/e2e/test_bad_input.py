"""Bad input: a clear message naming what is wrong, exit code 2, and nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import git, run_cli, run_plan

GOOD_PLAN = '[[tasks]]\nid = "a"\nprompt = "@write x.txt :: x"\nfiles = ["calc/ops.py"]\n'


def assert_nothing_written(project: Path, db: Path) -> None:
    assert not db.exists()
    assert git(project, "branch", "--list", "maestro*") == ""


def test_not_a_git_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    plan = tmp_path / "plan.toml"
    plan.write_text(GOOD_PLAN)
    result = run_cli(
        "run",
        "--plan",
        str(plan),
        "--repo",
        str(plain),
        "--yes",
        "--headless",
        "--db",
        str(tmp_path / "x.db"),
    )
    assert result.returncode == 2
    assert "not a git repository" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_repo_without_commits(tmp_path: Path) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    plan = tmp_path / "plan.toml"
    plan.write_text(GOOD_PLAN)
    result = run_cli(
        "run",
        "--plan",
        str(plan),
        "--repo",
        str(repo),
        "--yes",
        "--headless",
        "--db",
        str(tmp_path / "x.db"),
    )
    assert result.returncode == 2
    assert "no commit" in result.stderr


def test_uncommitted_changes_to_plan_files(project: Path, tmp_path: Path) -> None:
    (project / "calc" / "ops.py").write_text("# edited by the user\n")
    result, db = run_plan(project, tmp_path, GOOD_PLAN)
    assert result.returncode == 2
    assert "calc/ops.py" in result.stderr and "commit or stash" in result.stderr
    assert_nothing_written(project, db)
    assert (project / "calc" / "ops.py").read_text() == "# edited by the user\n"


@pytest.mark.parametrize(
    ("plan_text", "message"),
    [
        (
            '[[tasks]]\nid = "a"\nprompt = "p"\ndepends_on = ["b"]\n'
            '[[tasks]]\nid = "b"\nprompt = "p"\ndepends_on = ["a"]\n',
            "dependency cycle: ",
        ),
        (
            '[[tasks]]\nid = "a"\nprompt = "p"\ndepends_on = ["ghost"]\n',
            "task 'a': unknown dependency 'ghost'",
        ),
        ('[[tasks]]\nid = "a"\nprompt = ""\n', "task 'a': empty prompt"),
        (
            '[[tasks]]\nid = "a"\nprompt = "p"\nfiles = ["../../etc/passwd"]\n',
            "task 'a': file '../../etc/passwd'",
        ),
        ('[[tasks]]\nid = "a"\nprompt = "p"\nworker = "nobody"\n', "worker 'nobody'"),
        ("[[tasks]\n", "is not valid TOML"),
    ],
)
def test_bad_plans(project: Path, tmp_path: Path, plan_text: str, message: str) -> None:
    result, db = run_plan(project, tmp_path, plan_text)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert_nothing_written(project, db)


def test_bad_config_names_the_key(project: Path, tmp_path: Path) -> None:
    with (project / "maestro.toml").open("a") as fh:
        fh.write("\n[merge]\npolicy = 'sometimes'\n")
    git(project, "commit", "-qam", "config")
    result, db = run_plan(project, tmp_path, GOOD_PLAN)
    assert result.returncode == 2
    assert "policy" in result.stderr and "sometimes" in result.stderr
    assert_nothing_written(project, db)


def test_missing_program_is_named(project: Path, tmp_path: Path) -> None:
    with (project / "maestro.toml").open("a") as fh:
        fh.write('\n[workers.ghost]\nargv = ["no-such-agent-cli", "{prompt}"]\n')
    git(project, "commit", "-qam", "config")
    result, db = run_plan(
        project, tmp_path, GOOD_PLAN.replace("prompt", 'worker = "ghost"\nprompt')
    )
    assert result.returncode == 2
    assert "no-such-agent-cli" in result.stderr
    assert_nothing_written(project, db)


def test_plan_review_is_required_without_a_terminal(project: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(GOOD_PLAN)
    db = tmp_path / "runs.db"
    result = run_cli(
        "run", "--plan", str(plan), "--repo", str(project), "--headless", "--db", str(db)
    )
    assert result.returncode == 2 and "--yes" in result.stderr
    assert_nothing_written(project, db)


def test_bad_numbers_and_unknown_runs(project: Path, tmp_path: Path) -> None:
    result, _ = run_plan(project, tmp_path, GOOD_PLAN, "--agents", "0")
    assert result.returncode == 2 and "--agents" in result.stderr
    db = tmp_path / "runs.db"
    for args in (("resume", "nope"), ("merges", "nope"), ("approve", "nope", "a")):
        result = run_cli(*args, "--db", str(db))
        assert result.returncode == 2 and "no run 'nope'" in result.stderr


def test_a_file_that_is_not_a_database(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("these are my notes, not a database\n" * 100)
    result = run_cli("runs", "--db", str(db))
    assert result.returncode == 2 and "notes.txt" in result.stderr
    assert db.read_text().startswith("these are my notes")


def test_shell_metacharacters_never_reach_a_shell(project: Path, tmp_path: Path) -> None:
    plan = (
        '[[tasks]]\nid = "meta"\ntitle = "; touch pwned-title && echo $(touch pwned-sub)"\n'
        'prompt = "`touch pwned-tick` | touch pwned-pipe; rm -rf . $HOME\\n@echo safe"\n'
    )
    result, db = run_plan(project, tmp_path, plan)
    assert result.returncode == 0, result.stdout + result.stderr
    for root in (project, tmp_path, Path.cwd()):
        assert not list(root.rglob("pwned*"))
    assert (project / "calc" / "ops.py").exists()
