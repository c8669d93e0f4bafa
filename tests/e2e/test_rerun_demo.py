"""A real demo run, re-run from one task on another model, then compared and scored: the
re-run takes the rest over as it merged (in git, unpaid), and every figure of `compare` and
`stats` is checked against the events table and git."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import events_of, git, run_cli
from tests.support.figures import check_compare, expected_scores, expected_tasks, patch_id

FIGURES = (
    "status", "merged", "started", "taken_over", "tokens_in", "tokens_out", "cost_usd",
    "fix_rounds", "conflicts", "interventions", "first_try_green", "lines", "files", "commit",
    "gate", "wall_s",
)  # fmt: skip
DEMO_ENV = {"MAESTRO_DEMO_PACE": "0"}
MERGED_FORMAT = "--format=%H %(trailers:key=Maestro-Merged-Task,valueonly,separator=%x2C)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A demo run in which every task merged (its conflict resolved by its agent)."""
    tmp = tmp_path_factory.mktemp("rerun")
    repo, db = tmp / "shop", tmp / "runs.db"
    done = run_cli(
        "demo", "--headless", "--on-conflict", "agent", "--dir", str(repo), "--db", str(db),
        env=DEMO_ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    with sqlite3.connect(db) as con:
        (run_id,) = con.execute("SELECT run_id FROM runs").fetchone()
    return repo, db, run_id


@pytest.fixture(scope="module")
def rerun(demo: tuple[Path, Path, str]) -> str:
    repo, db, first = demo
    done = run_cli(
        "rerun", first[:15], "--from", "bulk-discount", "--worker", "llm",
        "--model", "demo/coder-b", "--set", "run.max_agents=2", "--headless", "--db", str(db),
        env=DEMO_ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    with sqlite3.connect(db) as con:
        row: tuple[str] = con.execute(
            "SELECT run_id FROM runs WHERE rerun_of = ?", (first,)
        ).fetchone()
    (second,) = row
    assert f"compare them: maestro-tui compare {first} {second}" in done.stdout
    return second


def test_the_rerun_runs_the_studied_part_and_takes_the_rest_over(
    demo: tuple[Path, Path, str], rerun: str
) -> None:
    repo, db, first = demo
    plan = [e for e in events_of(db, first) if e["type"] == "PlanProposed"][-1]["plan"]
    below = {"bulk-discount"}
    for task in plan["tasks"]:  # in plan order: dependencies come first
        if set(task["depends_on"]) & below:
            below.add(task["id"])
    events = events_of(db, rerun)
    started = events[0]
    (link,) = [e for e in events if e["type"] == "RerunOf"]
    assert link["source"] == first and link["from_tasks"] == ["bulk-discount"]
    assert set(link["rerun"]) == below
    taken = {e["task"]: e for e in events if e["type"] == "TaskTakenOver"}
    assert set(taken) == {t["id"] for t in plan["tasks"]} - below == set(link["taken_over"])
    source_start = events_of(db, first)[0]
    assert started["base_commit"] == source_start["base_commit"]  # the same base
    assert link["base_branch"] == source_start["base_branch"]
    # Nothing of a taken-over task ran or was paid for; the rest ran on the new model.
    for e in events:
        if e["type"] in ("TaskStarted", "LLMUsage") and e.get("task"):
            assert e["task"] in below
        if e["type"] == "TaskStarted":
            assert e["worker"] == "llm:demo/coder-b"
        if e["type"] == "LLMUsage" and e.get("task"):
            assert e["model"] == "demo/coder-b"
    (configured,) = [e for e in events if e["type"] == "RunConfigured"]
    assert json.loads(configured["settings"])["config"]["max_agents"] == 2  # --set
    # In git: each taken-over result is one commit after the base, in the order it merged,
    # making the same change as its merge did there.
    branch = started["integration_branch"]
    log = git(repo, "log", "--first-parent", "--reverse", MERGED_FORMAT,
              f"{started['base_commit']}..{branch}")  # fmt: skip
    commits = [line.split() for line in log.splitlines()]
    took = [(sha, tasks) for sha, tasks in commits if tasks in taken]
    assert [t for _, t in took] == [t for t in _merge_order(repo, first) if t in taken]
    for sha, task in took:
        assert taken[task]["commit"] == sha
        trailers = git(repo, "log", "-1", "--format=%(trailers)", sha)
        assert f"Maestro-Taken-Over-From: {first}" in trailers
        source_merge = _merge_order(repo, first)[task]
        assert patch_id(repo, sha) == patch_id(repo, source_merge)
    ran_here = [tasks for _, tasks in commits if tasks not in taken]
    assert sorted(ran_here) == sorted(below - {"final-review"})  # the review changes nothing


def _merge_order(repo: Path, run_id: str) -> dict[str, str]:
    """task -> its merge commit on the run's integration branch, oldest first."""
    log = git(repo, "log", "--first-parent", "--reverse", MERGED_FORMAT, f"maestro/{run_id}")
    return {parts[1]: parts[0] for parts in map(str.split, log.splitlines()) if len(parts) == 2}


def test_compare_shows_every_figure_as_the_store_and_git_have_it(
    demo: tuple[Path, Path, str], rerun: str
) -> None:
    repo, db, first = demo
    shown = run_cli("compare", first, rerun, "--json", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert [r["run_id"] for r in report["runs"]] == [first, rerun]
    assert report["runs"][1]["rerun_of"] == first
    check_compare(report, db, repo, FIGURES)
    for run_id, run in zip((first, rerun), report["runs"], strict=True):
        tasks = {
            row["task_id"]: row["runs"][[first, rerun].index(run_id)] for row in report["tasks"]
        }
        for task_id, want in expected_tasks(db, run_id).items():
            if want["started"]:
                assert (tasks[task_id]["worker"], tasks[task_id]["model"]) == (
                    want["worker"], want["model"],
                )  # fmt: skip
        assert run["totals"]["wall_s"] > 0
    text = run_cli("compare", first, rerun, "--db", str(db))
    assert text.returncode == 0
    assert "taken over" in text.stdout and "bulk-discount: A → B" in text.stdout


def test_stats_scores_each_worker_and_model_as_the_store_says_and_sees_a_revert(
    demo: tuple[Path, Path, str], rerun: str, tmp_path: Path
) -> None:
    repo, db, first = demo
    shown = run_cli("stats", "--json", "--db", str(db), "--repo", str(repo))
    assert shown.returncode == 0, shown.stderr
    rows = {
        (r["worker"], r["model"], r["role"]): r
        for r in map(json.loads, shown.stdout.split("\n")[:-1])
    }
    expected = expected_scores(db, [first, rerun])
    assert set(rows) == set(expected)
    for key, want in expected.items():
        got = rows[key]
        for name in ("tasks", "merged", "green_known", "green_first", "fix_rounds", "conflicts",
                     "landed"):  # fmt: skip
            assert got[name] == want[name], (key, name)
        assert got["cost_usd"] == pytest.approx(want["cost_usd"], abs=1e-12)
        assert got["reverted"] == 0
    assert any(model == "demo/coder-b" for _, model, _ in rows)
    # Revert one merged result of the first run on its integration branch, as a person would.
    order = _merge_order(repo, first)
    victim = next(t for t in order if expected_tasks(db, first)[t]["role"] == "tester")
    tree = tmp_path / "revert"
    git(repo, "worktree", "add", "-q", str(tree), f"maestro/{first}")
    git(tree, "revert", "--no-edit", "-m", "1", order[victim])
    git(repo, "worktree", "remove", "--force", str(tree))
    again = run_cli("stats", "--json", "--db", str(db))
    rows = {
        (r["worker"], r["model"], r["role"]): r
        for r in map(json.loads, again.stdout.split("\n")[:-1])
    }
    reverted = {k: r["reverted"] for k, r in rows.items() if r["reverted"]}
    assert reverted == {("llm:demo/coder", "demo/coder", "tester"): 1}
    table = run_cli("stats", "--db", str(db))
    assert "[95 % Wilson interval]" in table.stdout and "1/" in table.stdout
