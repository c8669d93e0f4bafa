"""The CLI planner's pure parts: which worker plans, its answer read and checked, its reads.

The planner with each real CLI is tested in tests/agents/cli/test_cli_planner.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maestro_tui.agents.base import WorkerError
from maestro_tui.config import Config, ConfigError
from maestro_tui.config.presets import PRESETS
from maestro_tui.domain.plan import PlanError
from maestro_tui.domain.planning import PlanningLog
from maestro_tui.llm.cli_planner import (
    PLAN_SCHEMA,
    PlanningReport,
    answer_json,
    looked_at,
    plan_with_cli,
    planner_cli,
    schema_problems,
)
from maestro_tui.llm.client import Completion
from tests.llm.conftest import git

PLAN = {
    "tasks": [
        {
            "id": "a",
            "title": "A",
            "role": "coder",
            "prompt": "Do a.",
            "files": ["a.py"],
            "depends_on": [],
        }
    ]
}


def test_the_planner_setting_picks_a_coding_cli_a_worker_like_one_or_a_model() -> None:
    assert planner_cli(Config(planner="")) is None
    assert planner_cli(Config(planner="openai/gpt-5")) is None  # a litellm model
    assert planner_cli(Config(planner="claude")) == PRESETS["claude"]
    mine = replace(PRESETS["codex"], name="my-codex", env={"X": "1"})
    config = Config(planner="my-codex", workers={**PRESETS, "my-codex": mine})
    assert planner_cli(config) is mine  # the user's table: argv, env, pass_env
    with pytest.raises(ConfigError, match="'aider': that worker cannot plan read-only"):
        planner_cli(Config(planner="aider"))


@pytest.mark.parametrize(
    "text",
    [
        '{"tasks": []}',
        'Here is the plan:\n```json\n{"tasks": []}\n```\n',
        'The plan: {"tasks": []} — done.',
    ],
)
def test_the_answer_is_the_json_object_whatever_is_around_it(text: str) -> None:
    assert answer_json(text) == {"tasks": []}


def test_an_answer_with_no_json_object_says_what_came() -> None:
    with pytest.raises(PlanError) as refused:
        answer_json("I could not make a plan.")
    assert refused.value.problems == [
        "the answer is not a JSON object with the plan: 'I could not make a plan.'"
    ]


def test_the_schema_names_missing_keys_and_wrong_types_per_task() -> None:
    assert schema_problems(PLAN, PLAN_SCHEMA) == []
    task = PLAN["tasks"][0]
    broken = {"tasks": [{k: v for k, v in task.items() if k != "files"} | {"depends_on": "b"}]}
    assert schema_problems(broken, PLAN_SCHEMA) == [
        "task 'a': missing 'files'",
        "task 'a', 'depends_on': must be an array",
    ]
    assert schema_problems({"plan": []}, PLAN_SCHEMA) == ["the plan: missing 'tasks'"]


@pytest.mark.parametrize(
    ("tool", "args", "what"),
    [
        ("Read", "file_path=src/x.py", "src/x.py"),
        ("Read", "file_path=src/x.py, offset=10, limit=40", "src/x.py:10-49"),
        ("Grep", "pattern=def total, path=src, output_mode=content", "grep def total src"),
        ("Glob", "pattern=**/*.py", "glob **/*.py"),
        ("read_file", "file_path=greet.py", "greet.py"),
        ("grep_search", "pattern=greet", "grep greet"),
        ("list_directory", "dir_path=.", "ls ."),
        ("shell", "/bin/bash -lc 'sed -n 1,80p src/x.py'", "sed -n 1,80p src/x.py"),
        ("shell", "/bin/bash -lc 'grep -rn '\\''def x'\\'' .'", "grep -rn 'def x' ."),
        ("Write", "file_path=x.py, content=<3 chars>", None),
    ],
)
def test_what_a_tool_call_looked_at(tool: str, args: str, what: str | None) -> None:
    assert looked_at(tool, args) == what


def test_the_report_turns_usage_into_completions_and_reads_into_progress() -> None:
    log = PlanningLog()
    used: list[Completion] = []
    report = PlanningReport(log, used.append)
    report.output("Reading the cart.", "llm")
    report.output("Claude Code 2.1 on claude-sonnet-4-5, session s1", "stderr")  # not its words
    report.tool("Read", "file_path=shop/cart.py")
    report.tool("Read", "file_path=missing.py", ok=False)
    report.usage("claude-sonnet-4-5", 1200, 80, 0.0048)
    report.usage("codex:default", 900, 30, None)

    assert log.text == ["Reading the cart."] and log.reads == ["shop/cart.py"]
    assert (log.tokens_in, log.tokens_out, log.unpriced) == (2100, 110, 1)
    assert log.cost_usd == pytest.approx(0.0048)
    assert used == [
        Completion("", [], 1200, 80, 0.0048, 0.0, "claude-sonnet-4-5"),
        Completion("", [], 900, 30, None, 0.0, "codex:default"),
    ]


async def test_a_planner_cli_not_installed_is_bad_input_and_leaves_no_checkout(
    repo: Path, tmp_path: Path
) -> None:
    spec = replace(PRESETS["claude"], argv=("no-such-claude", "-p", "{prompt}"))
    config = Config(planner="claude", worktree_root=str(tmp_path / "worktrees"))
    with pytest.raises(WorkerError, match="'no-such-claude' is not installed"):
        await plan_with_cli(config, spec, "Add beta", repo)
    assert not list((tmp_path / "worktrees").glob("*/.scratch/*"))
    assert not list((tmp_path / "worktrees").glob(".planner-*"))
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
