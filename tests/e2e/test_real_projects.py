"""Issue 18 end to end: projects set up the way people have them, each configured only by
what `maestro-tui init` writes, run with green tasks merged, red ones held off, and an
integration branch that is green when checked out and tested by hand.

- a Python project (src layout) with its venv in the checkout, the project installed editable
  (`pip install -e . pytest`), the venv activated, `pytest -q`;
- the same with `.venv/bin/pytest -q` and no venv activated;
- a Node project with a real dependency in `node_modules`, a `.env`, both git-ignored, and
  `npm test`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import FAKE_AGENT, events_of, git, run_cli, worktrees

pytestmark = pytest.mark.slow

CORE = "def double(x):\n    return 2 * x\n\n\ndef square(x):\n    return x * x\n"
BROKEN = "def double(x):\n    return 2 * x + 1\n\n\ndef square(x):\n    return x + x\n"
TESTS = (
    "from mathkit.core import double, square\n\n\n"
    "def test_double():\n    assert double(4) == 8\n\n\n"
    "def test_square():\n    assert square(3) == 9\n"
)


def write(path: str, text: str) -> str:
    return f"@write {path} :: " + text.replace("\n", "\\n")


def plan_text(tasks: dict[str, str]) -> str:
    parts = ['goal = "grow the project"']
    for task_id, step in tasks.items():
        parts.append(
            f"[[tasks]]\nid = {json.dumps(task_id)}\ntitle = {json.dumps(task_id)}\n"
            f"prompt = {json.dumps(step)}\n"
        )
    return "\n\n".join(parts) + "\n"


PYTHON_PLAN = plan_text(
    {
        "triple": write("src/mathkit/extra.py", "def triple(x):\n    return 3 * x\n"),
        "docs": write("README.md", "# mathkit\n\nSmall maths.\n"),
        "break-core": write("src/mathkit/core.py", BROKEN),
        "names": write("src/mathkit/names.py", 'NAMES = ["double", "square"]\n'),
    }
)


TWO_TASKS = plan_text(
    {
        "triple": write("src/mathkit/extra.py", "def triple(x):\n    return 3 * x\n"),
        "break-core": write("src/mathkit/core.py", BROKEN),
    }
)


def configured(repo: Path, tmp_path: Path, test_command: str | None = None) -> str:
    """The repository set up by `init` for the fake agent, with the user's test command."""
    state = tmp_path / "state"
    state.mkdir()
    text = init_config(repo, state)
    if test_command is not None:
        set_test_command(repo, test_command)
    return text


def init_config(repo: Path, state: Path) -> str:
    """`maestro-tui init` in the repository, then the fake agent as the default worker."""
    done = run_cli("init", "--force", "--repo", str(repo))
    assert done.returncode == 0, done.stderr
    text = (repo / "maestro.toml").read_text()
    text = re.sub(r'(?m)^default_worker = ".*"$', 'default_worker = "fake"', text, count=1)
    assert 'default_worker = "fake"' in text
    text += (
        f'\n[workers.fake]\nargv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]\n'
        f'env = {{ FAKE_STATE = "{state}" }}\n'
    )
    (repo / "maestro.toml").write_text(text)
    return text


@pytest.fixture(scope="module")
def python_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A src-layout project, its .venv in the checkout with the project installed editable."""
    repo = tmp_path_factory.mktemp("pyproj") / "mathkit"
    (repo / "src" / "mathkit").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
        '\n[project]\nname = "mathkit"\nversion = "0.1"\n'
        '\n[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    (repo / "src" / "mathkit" / "__init__.py").write_text("")
    (repo / "src" / "mathkit" / "core.py").write_text(CORE)
    (repo / "tests" / "test_core.py").write_text(TESTS)
    (repo / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    subprocess.run([sys.executable, "-m", "venv", str(repo / ".venv")], check=True)
    pip = [str(repo / ".venv" / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "-e", str(repo), "pytest"], check=True, timeout=300)
    return repo


def activated(venv: Path) -> dict[str, str]:
    return {"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def run(
    repo: Path, tmp: Path, plan: str, env: dict[str, str], *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp / "plan.toml").write_text(plan)
    db = tmp / "runs.db"
    result = run_cli(
        "run", "--plan", str(tmp / "plan.toml"), "--repo", str(repo), "--headless",
        "--db", str(db), "--yes", *extra, env=env, timeout=300,
    )  # fmt: skip
    return result, db


def merged_tasks(db: Path) -> set[str]:
    return {e["task"] for e in events_of(db) if e["type"] == "Merged"}


def integration_branch(db: Path) -> str:
    started = next(e for e in events_of(db) if e["type"] == "RunStarted")
    branch: str = started["integration_branch"]
    return branch


def green_by_hand(repo: Path, branch: str, command: list[str], env: dict[str, str]) -> str:
    """Check the branch out in the user's checkout and run the tests there, as a person would."""
    git(repo, "checkout", "-q", branch)
    try:
        done = subprocess.run(
            command, cwd=repo, env={**os.environ, **env}, capture_output=True, text=True
        )
    finally:
        git(repo, "checkout", "-q", "-")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_editable_venv_activated_tests_each_worktree_not_the_checkout(
    python_project: Path, tmp_path: Path
) -> None:
    repo = python_project
    configured(repo, tmp_path, "pytest -q")  # what the user has
    env = activated(repo / ".venv")
    result, db = run(repo, tmp_path, PYTHON_PLAN, env)
    out = result.stdout + result.stderr
    assert "preflight: the base's tests are green" in out, out
    assert merged_tasks(db) == {"triple", "docs", "names"}, out
    assert result.returncode != 0  # break-core failed: the run says so
    tested = [e for e in events_of(db) if e["type"] == "TestsRan" and e["task"] == "break-core"]
    assert tested and not any(e["passed"] for e in tested)
    assert "2 failed" in green_or_red(tested[0]["output_tail"])
    green_by_hand(repo, integration_branch(db), ["pytest", "-q"], env)
    assert worktrees(repo) == [str(repo)]


def set_test_command(repo: Path, command: str) -> None:
    config = (repo / "maestro.toml").read_text()
    start = config.index("[tests]\n")
    line = next(ln for ln in config[start:].splitlines() if ln.startswith("command = "))
    (repo / "maestro.toml").write_text(config.replace(line, f"command = {json.dumps(command)}"))


def green_or_red(tail: str) -> str:
    return tail.strip().splitlines()[-1]


def test_a_venv_path_relative_to_the_repository_runs_the_checkouts_venv(
    python_project: Path, tmp_path: Path
) -> None:
    repo = python_project
    configured(repo, tmp_path, ".venv/bin/pytest -q")
    env = {"VIRTUAL_ENV": "", "PATH": os.environ["PATH"]}
    result, db = run(repo, tmp_path, TWO_TASKS, env)
    out = result.stdout + result.stderr
    assert merged_tasks(db) == {"triple"}, out
    assert "not charged to this task" not in out
    green_by_hand(repo, integration_branch(db), [".venv/bin/pytest", "-q"], env)


def test_tests_that_import_the_checkout_are_refused_before_any_agent(
    python_project: Path, tmp_path: Path
) -> None:
    repo = python_project
    configured(repo, tmp_path)
    config = (repo / "maestro.toml").read_text()
    config = config.replace('python = "auto"', 'python = "off"')
    (repo / "maestro.toml").write_text(config)
    branches = git(repo, "branch", "--list")
    result, db = run(repo, tmp_path, PYTHON_PLAN, activated(repo / ".venv"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "mathkit ->" in result.stderr and 'python = "auto"' in result.stderr
    assert not db.exists()
    assert git(repo, "branch", "--list") == branches
    assert worktrees(repo) == [str(repo)]


NODE_TEST = """const { test } = require('node:test');
const assert = require('node:assert');
const ms = require('ms');
const { greet } = require('../lib/greet');

test('ms parses', () => { assert.strictEqual(ms('2s'), 2000); });
test('greets from .env', () => { assert.strictEqual(greet(), 'hello world'); });
"""


@pytest.fixture(scope="module")
def node_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Node project with a real dependency installed and a .env, both git-ignored."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: install Node.js and npm to run the Node scenario")
    repo = tmp_path_factory.mktemp("nodeproj") / "greeter"
    (repo / "lib").mkdir(parents=True)
    (repo / "test").mkdir()
    package = {
        "name": "greeter",
        "version": "1.0.0",
        "private": True,
        "scripts": {"test": "node --env-file=.env --test test/"},
        "dependencies": {"ms": "2.1.3"},
    }
    (repo / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (repo / "lib" / "greet.js").write_text(
        "exports.greet = () => `${process.env.GREETING} world`;\n"
    )
    (repo / "test" / "greet.test.js").write_text(NODE_TEST)
    (repo / ".env").write_text("GREETING=hello\n")
    (repo / ".gitignore").write_text("node_modules/\n.env\n")
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefer-offline"]
    subprocess.run(npm, cwd=repo, check=True, timeout=300, capture_output=True)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def test_a_node_project_gets_node_modules_and_env_in_every_worktree(
    node_project: Path, tmp_path: Path
) -> None:
    repo = node_project
    text = configured(repo, tmp_path)
    assert 'command = "npm test"' in text and '".env"' in text and "npm ci" in text, text
    plan = plan_text(
        {
            "shout": write("lib/shout.js", "exports.shout = (s) => s.toUpperCase();\n"),
            "break-greet": write("lib/greet.js", "exports.greet = () => 'bye';\n"),
        }
    )
    result, db = run(repo, tmp_path, plan, {})
    out = result.stdout + result.stderr
    assert merged_tasks(db) == {"shout"}, out
    logs = {e["text"] for e in events_of(db) if e["type"] == "AgentOutput"}
    assert any("npm ci" in line for line in logs), "the setup's output is in the task's log"
    green_by_hand(repo, integration_branch(db), ["npm", "test"], {})


@pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed: apt-get install bubblewrap"
)
def test_in_the_sandbox_setup_and_tests_run_confined_with_the_venv_shown(
    python_project: Path, tmp_path: Path
) -> None:
    repo = python_project
    configured(repo, tmp_path, "pytest -q")
    escape = repo / "ESCAPED"
    probe = (
        "import pathlib\n"
        "pathlib.Path('prepared.txt').write_text('ok')\n"
        "try:\n"
        f"    pathlib.Path({str(escape)!r}).write_text('x')\n"
        "    print('setup wrote into the checkout')\n"
        "except OSError as exc:\n"
        "    print('setup kept out of the checkout:', type(exc).__name__)\n"
    )
    (tmp_path / "probe.py").write_text(probe)
    config = (repo / "maestro.toml").read_text()
    config = config.replace("setup = []", f'setup = ["python {tmp_path / "probe.py"}"]', 1)
    plain = config
    sandbox = config.index("[sandbox]")
    config = config[:sandbox] + config[sandbox:].replace('kind = "none"', 'kind = "bwrap"', 1)
    shown = f'read_only = ["{FAKE_AGENT.parent}", "{tmp_path}"]'
    config = config[:sandbox] + config[sandbox:].replace("read_only = []", shown, 1)
    (repo / "maestro.toml").write_text(config)
    env = activated(repo / ".venv")
    try:
        result, db = run(repo, tmp_path, TWO_TASKS, env)
    finally:
        (repo / "maestro.toml").write_text(plain)
    out = result.stdout + result.stderr
    assert db.exists(), out
    assert merged_tasks(db) == {"triple"}, out
    said = [e["text"] for e in events_of(db) if e["type"] == "AgentOutput"]
    assert any("setup kept out of the checkout: OSError" in line for line in said), said
    assert not escape.exists()
    green_by_hand(repo, integration_branch(db), ["pytest", "-q"], env)


def test_configured_only_by_init_the_python_project_merges_green_and_holds_red(
    python_project: Path, tmp_path: Path
) -> None:
    repo = python_project
    text = configured(repo, tmp_path)
    assert 'command = ".venv/bin/python -m pytest -q"' in text, text
    result, db = run(repo, tmp_path, TWO_TASKS, {"VIRTUAL_ENV": "", "PATH": os.environ["PATH"]})
    assert merged_tasks(db) == {"triple"}, result.stdout + result.stderr
    green_by_hand(repo, integration_branch(db), [".venv/bin/python", "-m", "pytest", "-q"], {})
