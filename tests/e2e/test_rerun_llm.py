"""A run of a scripted model over HTTP (litellm, a loopback OpenAI-compatible server), re-run
from one task on another model that needs a fix round and writes other code; `compare` and
`stats` are checked against the events table, git and the configured prices."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import git, run_cli
from tests.llm.fakeserver import FakeChatServer, Reply, serving
from tests.support.figures import check_compare, expected_scores

KEY = "sk-test-rerun-0a1b2c3d4e5f"
PRICES = {"model-a": (1.0, 4.0), "model-b": (3.0, 12.0)}  # usd per 1M tokens in, out
PLAN = """
[[tasks]]
id = "alpha"
title = "Alpha test"
prompt = "write tests/test_alpha.py"
files = ["tests/test_alpha.py"]

[[tasks]]
id = "beta"
title = "Beta note"
prompt = "write beta.txt"
files = ["beta.txt"]

[[tasks]]
id = "gamma"
title = "Gamma doc"
role = "doc_writer"
prompt = "write gamma.md"
files = ["gamma.md"]
depends_on = ["alpha", "beta"]
"""
FIGURES = (
    "status", "merged", "started", "taken_over", "tokens_in", "tokens_out", "cost_usd",
    "fix_rounds", "conflicts", "interventions", "first_try_green", "lines", "files", "commit",
    "gate", "wall_s", "worker", "model",
)  # fmt: skip


def content(model: str, task: str, fixing: bool) -> tuple[str, str]:
    """What each model writes: model-b's first test is wrong, its fix is another test."""
    if task == "alpha":
        if model == "model-a":
            return "tests/test_alpha.py", "def test_alpha():\n    assert 1 + 1 == 2\n"
        body = "assert 2 * 2 == 4" if fixing else "assert 1 + 1 == 3"
        return "tests/test_alpha.py", f"def test_alpha():\n    {body}\n"
    if task == "beta":
        return "beta.txt", "beta\n"
    return "gamma.md", f"# Gamma\n\nWritten by {model}.\n"


def responder(body: dict[str, Any]) -> Reply:
    text = "\n".join(str(m.get("content") or "") for m in body["messages"])
    task = re.search(r"^Task id: *(\S+)", text, re.MULTILINE)
    assert task, "the worker's messages name its task"
    model = body["model"].rsplit("/", 1)[-1]
    fixing = "The tests fail" in text
    last = body["messages"][-1]
    if last["role"] == "tool":
        return Reply(text="Done.", tool_calls=[("finish", {"summary": "done"})], usage=(300, 20))
    path, data = content(model, task.group(1), fixing)
    return Reply(
        text=f"Writing {path}.",
        tool_calls=[("write_file", {"path": path, "content": data})],
        usage=(250 + 50 * fixing, 60),
    )


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    with serving(responder) as srv:
        yield srv


def test_rerun_on_another_model_then_compare_and_stats(
    project: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    prices = "".join(
        f'[llm.prices."openai/{m}"]\ninput_per_mtok = {i}\noutput_per_mtok = {o}\n\n'
        for m, (i, o) in PRICES.items()
    )
    (project / "maestro.toml").write_text(
        '[run]\ndefault_worker = "llm"\nretries = 0\nfix_attempts = 1\n\n[tests]\n'
        f'command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q'
        ' -p no:cacheprovider"\n\n'
        f'[llm]\nmodel = "openai/model-a"\napi_key_env = "FAKE_LLM_KEY"\n\n{prices}'
    )
    git(project, "commit", "-qam", "run the tasks on a model")
    (tmp_path / "plan.toml").write_text(PLAN)
    db = tmp_path / "runs.db"
    env = {**os.environ, "FAKE_LLM_KEY": KEY}
    first = run_cli(
        "run", "--plan", str(tmp_path / "plan.toml"), "--repo", str(project), "--headless",
        "--yes", "--db", str(db), "--api-base", server.api_base, env=env,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout.splitlines()[0])
    second = run_cli(
        "rerun", runs["run_id"], "--from", "alpha", "--model", "openai/model-b", "--headless",
        "--db", str(db), env=env,
    )  # fmt: skip
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    assert "taken over as they merged (1): beta" in second.stdout
    listed = [
        json.loads(line) for line in run_cli("runs", "--json", "--db", str(db)).stdout.splitlines()
    ]
    source, rerun = runs["run_id"], listed[0]["run_id"]
    assert listed[0]["rerun_of"] == source

    report = json.loads(run_cli("compare", source, rerun, "--json", "--db", str(db)).stdout)
    check_compare(report, db, project, FIGURES)
    rows = {row["task_id"]: row for row in report["tasks"]}
    a, b = rows["alpha"]["runs"]
    assert (a["model"], b["model"]) == ("openai/model-a", "openai/model-b")
    assert (a["first_try_green"], b["first_try_green"], b["fix_rounds"]) == (True, False, 1)
    assert rows["beta"]["runs"][1]["taken_over"] == source
    alpha_diff = rows["alpha"]["diffs"][rerun]
    assert alpha_diff["same_base"]
    assert "-    assert 1 + 1 == 2\n+    assert 2 * 2 == 4" in alpha_diff["diff"]
    assert "+Written by model-b." in rows["gamma"]["diffs"][rerun]["diff"]
    calls_b = [r for r in server.requests if r["model"].endswith("model-b")]
    price_in, price_out = PRICES["model-b"]
    cost_b = sum(
        row["runs"][1]["cost_usd"] for row in report["tasks"] if not row["runs"][1]["taken_over"]
    )
    tokens = (report["runs"][1]["totals"]["tokens_in"], report["runs"][1]["totals"]["tokens_out"])
    assert cost_b == pytest.approx((tokens[0] * price_in + tokens[1] * price_out) / 1e6)
    assert len(calls_b) >= 5  # alpha twice (a fix round), gamma, each with a finish call

    scored = run_cli("stats", "--json", "--db", str(db), "--repo", str(project))
    got = {
        (r["worker"], r["model"], r["role"]): r for r in map(json.loads, scored.stdout.splitlines())
    }
    want = expected_scores(db, [source, rerun])
    assert set(got) == set(want)
    for key, counts in want.items():
        for name in ("tasks", "merged", "green_known", "green_first", "fix_rounds", "landed"):
            assert got[key][name] == counts[name], (key, name)
        assert got[key]["cost_usd"] == pytest.approx(counts["cost_usd"])
    b_coder = got[("llm:openai/model-b", "openai/model-b", "coder")]
    assert b_coder["first_try_green_rate"]["k"] == 0 and b_coder["mean_fix_rounds"] == 1
    table = run_cli("stats", "--db", str(db)).stdout
    assert "0/1 [0–79 %]" in table  # model-b's first try at the tests: one case, shown as one
