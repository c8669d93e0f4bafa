"""Hand-off: a run from another branch, landing by push to a real bare remote, the PR body and
the `gh` call, and the forge pages for a pull request."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from maestro_tui.headless.land import gh_argv
from maestro_tui.workspace.landing import compare_url
from tests.e2e.conftest import events_of, git, run_cli, run_plan

PLAN = """
goal = "add mul and document it"

[[tasks]]
id = "mul"
title = "Add mul"
prompt = "@append calc/ops.py :: \\\\n\\\\ndef mul(a, b):\\\\n    return a * b"
files = ["calc/ops.py"]

[[tasks]]
id = "docs"
title = "Document the ops"
role = "doc_writer"
depends_on = ["mul"]
prompt = "@write docs/ops.md :: # Ops\\\\n\\\\nadd and mul."
"""


def _feature_branch(project: Path) -> str:
    """A branch with a commit of its own, not checked out (the user stays on main)."""
    git(project, "checkout", "-q", "-b", "feature")
    (project / "calc" / "strings.py").write_text("def shout(s):\n    return s.upper()\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "strings on the feature branch")
    git(project, "checkout", "-q", "main")
    return git(project, "rev-parse", "feature")


def test_a_run_from_another_branch_builds_on_it_and_lands_there(
    project: Path, tmp_path: Path
) -> None:
    feature = _feature_branch(project)
    (project / "calc" / "ops.py").write_text("# an edit in progress on main\n")  # dirty main
    result, db = run_plan(project, tmp_path, PLAN, "--base", "feature")
    assert result.returncode == 0, result.stdout + result.stderr
    started = events_of(db)[0]
    assert (started["base_branch"], started["base_commit"]) == ("feature", feature)
    integration = started["integration_branch"]
    assert git(project, "merge-base", "--is-ancestor", feature, integration) == ""
    assert "def shout" in git(project, "show", f"{integration}:calc/strings.py")
    assert "def mul" in git(project, "show", f"{integration}:calc/ops.py")
    git(project, "checkout", "-q", "--", "calc/ops.py")
    landed = run_cli("land", started["run_id"], "--db", str(db))
    assert landed.returncode == 0, landed.stderr
    assert "into feature" in landed.stdout
    assert git(project, "rev-parse", "feature") == git(project, "rev-parse", integration)
    assert git(project, "rev-parse", "main") != git(project, "rev-parse", "feature")


def test_an_unknown_base_is_bad_input_and_writes_nothing(project: Path, tmp_path: Path) -> None:
    result, db = run_plan(project, tmp_path, PLAN, "--base", "no-such-branch")
    assert result.returncode == 2
    assert "--base no-such-branch: no such branch, tag or commit" in result.stderr
    assert not db.exists() and "maestro/" not in git(project, "branch", "--list", "maestro/*")


def test_land_pushes_to_a_bare_remote_and_prints_the_body(project: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    result, db = run_plan(project, tmp_path, PLAN)
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = events_of(db)[0]["run_id"]

    body = run_cli("land", run_id, "--body-only", "--db", str(db))
    assert body.returncode == 0, body.stderr
    text = body.stdout
    assert text.startswith("## Goal\n\nadd mul and document it\n")
    assert "| `mul` Add mul | fake |" in text and "| merged |" in text
    assert f"maestro-tui replay {run_id}" in text
    assert git(tmp_path, "--git-dir", str(remote), "branch", "--list") == ""  # nothing pushed

    wrong = run_cli("land", run_id, "--push", "upstream", "--db", str(db))
    assert wrong.returncode == 2 and "no remote 'upstream'" in wrong.stderr
    assert "remotes: origin" in wrong.stderr

    pushed = run_cli("land", run_id, "--push", "origin", "--pr", "--db", str(db))
    assert pushed.returncode == 0, pushed.stderr
    head = git(project, "rev-parse", f"maestro/{run_id}")
    on_remote = git(tmp_path, "--git-dir", str(remote), "rev-parse", f"maestro/{run_id}")
    assert on_remote == head
    # No gh here, and a path remote is no forge: it says what to do instead.
    assert f"open a pull request of maestro/{run_id} into main" in pushed.stdout
    assert git(project, "rev-parse", "main") != head  # pushing never touched the user's branch


def test_the_pr_goes_through_gh_with_the_body_on_stdin(project: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(project, "remote", "add", "origin", str(remote))
    result, db = run_plan(project, tmp_path, PLAN)
    run_id = events_of(db)[0]["run_id"]
    # gh itself needs a forge account; what maestro asks of it is checked to the exact argv.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "gh-call"
    (bin_dir / "gh").write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"open({str(record)!r}, 'w').write(repr(sys.argv[1:]) + '\\n' + sys.stdin.read())\n"
        "print('https://github.com/acme/calc/pull/7')\n"
    )
    (bin_dir / "gh").chmod(0o755)
    path = os.pathsep.join([str(bin_dir), os.environ["PATH"]])
    pushed = run_cli(
        "land", run_id, "--push", "origin", "--branch", "calc-mul", "--pr", "--db", str(db),
        env={"PATH": path},
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    assert "pull request: https://github.com/acme/calc/pull/7" in pushed.stdout
    argv_line, _, stdin = record.read_text().partition("\n")
    assert eval(argv_line) == gh_argv("main", "calc-mul", "add mul and document it")[1:]
    assert stdin.startswith("## Goal\n\nadd mul and document it")


def test_gh_argv_and_forge_pages() -> None:
    assert gh_argv("main", "maestro/r1", "Harden the shop") == [
        "gh", "pr", "create", "--base", "main", "--head", "maestro/r1",
        "--title", "Harden the shop", "--body-file", "-",
    ]  # fmt: skip
    assert (
        compare_url("git@github.com:acme/shop.git", "main", "maestro/r1")
        == "https://github.com/acme/shop/compare/main...maestro/r1?expand=1"
    )
    gitlab = compare_url("https://gitlab.com/grp/shop.git", "main", "feat")
    assert gitlab == (
        "https://gitlab.com/grp/shop/-/merge_requests/new?"
        "merge_request%5Bsource_branch%5D=feat&merge_request%5Btarget_branch%5D=main"
    )
    assert compare_url("/srv/git/shop.git", "main", "feat") is None
