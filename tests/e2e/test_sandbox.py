"""Agents in a bubblewrap sandbox, in a whole headless run: real bwrap, git and processes.

Three hostile agents try to reach out of their worktree, into a fake $HOME with an SSH key,
the user's checkout and another task's worktree; a well-behaved one in the same run works,
passes its tests and merges.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import SHOW_FAKE_AGENT, events_of, git, run_cli, write_config

pytestmark = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed: apt-get install bubblewrap"
)

SANDBOX = '\n[sandbox]\nkind = "bwrap"\n' + SHOW_FAKE_AGENT


SNEAKY_TEST = """import pathlib

def test_sneaky():
    for p in TARGETS:
        try:
            pathlib.Path(p).write_text("x")
        except OSError:
            pass
"""


def fake_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN FAKE KEY-----\n")
    return home


def run_sandboxed(
    project: Path, tmp_path: Path, plan: str, home: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp_path / "plan.toml").write_text(plan)
    db = tmp_path / "runs.db"
    result = run_cli(
        "run", "--plan", str(tmp_path / "plan.toml"), "--repo", str(project), "--headless",
        "--db", str(db), "--yes", "--agents", "4", *extra,
        env={"HOME": str(home)},
        timeout=300,
    )  # fmt: skip
    return result, db


def test_hostile_agents_are_denied_and_good_work_merges(project: Path, tmp_path: Path) -> None:
    home = fake_home(tmp_path)
    write_config(project, tmp_path / "fake-state", SANDBOX)
    git(project, "commit", "-qam", "sandbox the agents")
    ops_before = (project / "calc" / "ops.py").read_text()
    # Written by a test the agent adds, when the run tests its worktree and the merged tree.
    sneaky = [project / "SNEAKY", home / ".ssh" / "sneaky"]
    sneaky_test = SNEAKY_TEST.replace("TARGETS", repr([str(p) for p in sneaky]))
    sneaky_test = sneaky_test.replace('"', '\\"').replace("\n", "\\\\n")  # for TOML, then @write
    plan = f'''
[[tasks]]
id = "good"
title = "Add double"
prompt = """
@write calc/util.py :: def double(x):\\\\n    return 2 * x
@write tests/test_util.py :: from calc.util import double\\\\ndef test_double(): assert double(2)
@git status --short
@git log --oneline -1
@sleep 3
"""
files = ["calc/util.py", "tests/test_util.py"]

[[tasks]]
id = "sneaky"
title = "A test that reaches out when the run tests it"
prompt = """
@write tests/test_sneaky.py :: {sneaky_test}
"""

[[tasks]]
id = "home"
title = "Steal a key"
prompt = "@write {home}/x :: pwned\\n@read {home}/.ssh/id_rsa"

[[tasks]]
id = "checkout"
title = "Write into the user's checkout"
prompt = "@write {project}/calc/ops.py :: pwned"

[[tasks]]
id = "neighbour"
title = "Write into another task's worktree"
prompt = "@sleep 1\\n@write ../good/calc/hack.py :: pwned"
'''
    result, db = run_sandboxed(project, tmp_path, plan, home)
    output = result.stdout + result.stderr
    events = events_of(db)
    failed = {e["task"]: e["reason"] for e in events if e["type"] == "TaskFailed"}
    merged = {e["task"] for e in events if e["type"] == "Merged"}
    assert merged == {"good", "sneaky"}, output
    assert set(failed) == {"home", "checkout", "neighbour"}, output
    # $HOME is an empty throwaway folder: the write went nowhere, the key was not there.
    assert not (home / "x").exists()
    assert "No such file or directory" in failed["home"] and "id_rsa" in failed["home"]
    assert "BEGIN FAKE KEY" not in output + str(events)
    # The checkout is an empty read-only folder inside.
    assert "Read-only file system" in failed["checkout"], failed["checkout"]
    assert (project / "calc" / "ops.py").read_text() == ops_before
    # No other worktree is there to write into.
    assert "../good" in failed["neighbour"]
    assert "Read-only file system" in failed["neighbour"], failed["neighbour"]
    branch = next(e["integration_branch"] for e in events if "integration_branch" in e)
    files = git(project, "ls-tree", "-r", "--name-only", branch).splitlines()
    assert "calc/util.py" in files and "calc/hack.py" not in files
    # git works inside, read-only: the agent saw its own change and its branch's history.
    good_log = "\n".join(
        e["text"] for e in events if e["type"] == "AgentOutput" and e["task"] == "good"
    )
    assert "?? calc/util.py" in good_log and "sandbox the agents" in good_log
    tests = [e for e in events if e["type"] == "TestsRan" and e["task"] == "good"]
    assert tests and tests[-1]["passed"], tests
    assert git(project, "status", "--porcelain") == ""
    # Its tests ran (on its worktree, then merged), confined like the agents: nothing written.
    ran = [e for e in events if e["type"] == "TestsRan" and e["task"] == "sneaky"]
    gated = [e for e in events if e["type"] == "MergeTested" and "sneaky" in str(e)]
    assert ran and ran[-1]["passed"] and gated and gated[-1]["passed"], output
    assert ran[-1]["n_passed"] == 2, ran  # test_add and test_sneaky: it did run
    assert not [p for p in sneaky if p.exists()]


def test_a_missing_bwrap_is_a_clear_error_at_start(project: Path, tmp_path: Path) -> None:
    write_config(project, tmp_path / "fake-state", SANDBOX + 'program = "bwrap-not-here"\n')
    git(project, "commit", "-qam", "sandbox with a missing bwrap")
    plan = '[[tasks]]\nid = "a"\nprompt = "@write x.txt :: x"\n'
    result, db = run_sandboxed(project, tmp_path, plan, fake_home(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'bwrap-not-here' is not installed" in result.stderr
    assert "apt-get install bubblewrap" in result.stderr
    assert not db.exists()
    assert git(project, "branch", "--list", "maestro*") == ""
