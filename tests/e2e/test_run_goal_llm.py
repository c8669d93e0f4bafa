"""`maestro-tui run GOAL` through litellm over HTTP: a loopback OpenAI-compatible server plans
and codes; the work ends merged in git, and the stored costs equal usage × configured price."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import git
from tests.llm.fakeserver import FakeChatServer, Reply

KEY = "sk-test-9d8c7b6a5f4e3d2c1b0a"
PRICE_IN, PRICE_OUT = 1.5, 6.0  # usd per 1M tokens, configured in maestro.toml
PLAN = {
    "tasks": [
        {
            "id": "alpha",
            "title": "Alpha",
            "role": "coder",
            "prompt": "write alpha.txt",
            "files": [],
            "depends_on": [],
        },
        {
            "id": "beta",
            "title": "Beta",
            "role": "coder",
            "prompt": "write beta.txt",
            "files": [],
            "depends_on": [],
        },
        {
            "id": "gamma",
            "title": "Gamma",
            "role": "doc_writer",
            "prompt": "write gamma.md",
            "files": [],
            "depends_on": ["alpha", "beta"],
        },
    ]
}
TASK_FILE = {"alpha": "alpha.txt", "beta": "beta.txt", "gamma": "gamma.md"}


def responder(body: dict[str, Any]) -> Reply:
    tools = {t["function"]["name"] for t in body.get("tools", [])}
    if "submit_plan" in tools:
        return Reply(text="Here is the plan.", tool_calls=[("submit_plan", PLAN)], usage=(400, 90))
    text = "\n".join(str(m.get("content") or "") for m in body["messages"])
    task = re.search(r"^Task id: *(\S+)", text, re.MULTILINE)
    assert task, "the worker's messages name its task"
    task_id = task.group(1)
    if body["messages"][-1]["role"] == "tool":
        return Reply(
            text="Done.", tool_calls=[("finish", {"summary": f"wrote {task_id}"})], usage=(300, 20)
        )
    content = f"{task_id} by the model\n"
    return Reply(
        text=f"Writing {TASK_FILE[task_id]}.",
        tool_calls=[("write_file", {"path": TASK_FILE[task_id], "content": content})],
        usage=(250, 60),
    )


@pytest.fixture
def server() -> Iterator[FakeChatServer]:
    srv = FakeChatServer().start()
    srv.responder = responder
    try:
        yield srv
    finally:
        srv.stop()


def test_goal_to_merged_work_with_exact_costs(
    project: Path, tmp_path: Path, server: FakeChatServer
) -> None:
    model = "openai/fake-coder"
    (project / "maestro.toml").write_text(f"""
[run]
default_worker = "llm"
retries = 0

[llm]
model = "{model}"
api_key_env = "FAKE_LLM_KEY"

[llm.prices."{model}"]
input_per_mtok = {PRICE_IN}
output_per_mtok = {PRICE_OUT}
""")
    git(project, "commit", "-qam", "use the model")
    # One injected 429 first: the client retries and the run does not notice.
    server.script(Reply(status=429, error_body='{"error": {"message": "slow down"}}'))
    db = tmp_path / "runs.db"
    env = {**os.environ, "FAKE_LLM_KEY": KEY}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "maestro_tui",
            "run",
            "write three files",
            "--repo",
            str(project),
            "--model",
            model,
            "--api-base",
            server.api_base,
            "--headless",
            "--yes",
            "--db",
            str(db),
            "--agents",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    con = sqlite3.connect(db)
    run_id = con.execute("select run_id from runs").fetchone()[0]
    integration = f"maestro/{run_id}"
    for task, name in TASK_FILE.items():
        assert git(project, "show", f"{integration}:{name}") == f"{task} by the model"
    trailers = git(project, "log", "-1", "--format=%(trailers)", f"maestro-task/{run_id}/alpha")
    assert f"Maestro-Model: {model}" in trailers

    # Every call the server answered with usage is one llm_calls row, priced exactly.
    answered = [r for r in server.requests if r.get("stream")]
    rows = con.execute("select tokens_in, tokens_out, cost_usd from llm_calls").fetchall()
    assert len(rows) == len(answered) - 1  # the 429 was answered with no usage
    usage_in = sum(r[0] for r in rows)
    usage_out = sum(r[1] for r in rows)
    assert usage_in == 400 + 3 * (250 + 300) and usage_out == 90 + 3 * (60 + 20)
    expected = (usage_in * PRICE_IN + usage_out * PRICE_OUT) / 1e6
    assert sum(r[2] for r in rows) == pytest.approx(expected, rel=1e-9)
    planner = con.execute("select count(*) from llm_calls where task_id is null").fetchone()[0]
    assert planner == 1

    # The key went to the server, and nowhere into what we record.
    assert any(
        KEY in v for h in server.headers for k, v in h.items() if k.lower() == "authorization"
    )
    con.close()
    for path in tmp_path.glob("runs.db*"):
        assert KEY.encode() not in path.read_bytes()
    assert KEY not in result.stdout + result.stderr
    events = [json.loads(d) for (d,) in sqlite3.connect(db).execute("select data from events")]
    assert events and all(KEY not in json.dumps(e) for e in events)
