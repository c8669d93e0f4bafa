"""What `compare` and `stats` must say, worked out again from the events table with sqlite3
and from git, independently of maestro_tui's own code: the tests check every figure."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tests.e2e.conftest import git

NOT_READ = ("AgentOutput", "ToolCalled", "FileChanged")
HUMAN = ("MergeApproved", "MergeRejected", "SteerSent", "TaskCancelled")
SETTLED = ("merged", "done", "failed", "blocked", "cancelled", "rejected", "waiting")


def events_with_ts(db: Path, run_id: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT seq, ts, type, data FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
    return [{"seq": q, "ts": ts, "type": t, **json.loads(d)} for q, ts, t, d in rows]


def task_statuses(db: Path, run_id: str) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT task_id, status FROM tasks WHERE run_id = ?", (run_id,))
        return dict(rows.fetchall())


def expected_tasks(db: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """Each task's figures, from its events (no ensembles in these runs)."""
    events = events_with_ts(db, run_id)
    plan = [e for e in events if e["type"] == "PlanProposed"][-1]["plan"]
    statuses = task_statuses(db, run_id)
    out = {}
    for task in plan["tasks"]:
        t = task["id"]
        mine = [e for e in events if e.get("task") == t or t in e.get("tasks", ())]
        own = [e for e in mine if e.get("task") == t and e["type"] not in NOT_READ]
        kinds = Counter(e["type"] for e in mine if e.get("task") == t)
        started = [e for e in own if e["type"] == "TaskStarted"]
        usage = [e for e in own if e["type"] == "LLMUsage"]
        tests = [e for e in own if e["type"] == "TestsRan"]
        committed = [e for e in own if e["type"] == "TaskCommitted"]
        taken = [e for e in own if e["type"] == "TaskTakenOver"]
        gate = [e for e in mine if e["type"] == "MergeTested" and not e["cancelled"]]
        status = statuses[t]
        files_to_change = task.get("files") and task.get("role") != "reviewer"
        out[t] = {
            "status": status,
            "merged": status == "merged" or (status == "done" and not files_to_change),
            "started": bool(started) and not taken,
            "taken_over": taken[0]["source"] if taken else "",
            "role": task.get("role", "coder"),
            "worker": started[-1]["worker"] if started else None,
            "model": Counter(u["model"] for u in usage).most_common(1)[0][0] if usage else "",
            "tokens_in": sum(u["tokens_in"] for u in usage),
            "tokens_out": sum(u["tokens_out"] for u in usage),
            "cost_usd": sum(u["cost_usd"] or 0 for u in usage),
            "fix_rounds": kinds["TaskFixing"],
            "conflicts": kinds["MergeConflict"],
            "interventions": sum(kinds[k] for k in HUMAN),
            "first_try_green": tests[0]["passed"] if tests else None,
            "lines": committed[-1]["insertions"] + committed[-1]["deletions"] if committed else 0,
            "files": len(committed[-1]["files"]) if committed else 0,
            "commit": taken[0]["source_commit"]
            if taken
            else (committed[-1]["commit"] if committed else None),
            "gate": ("passed" if gate[-1]["passed"] else "failed") if gate else "",
            "wall_s": own[-1]["ts"] - started[0]["ts"] if started and not taken else None,
        }
    return out


def expected_scores(db: Path, run_ids: list[str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The scoreboard's counts per (worker, model, role) over these runs' tasks."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(Counter)
    for run_id in run_ids:
        for t in expected_tasks(db, run_id).values():
            if not t["started"] or t["status"] not in SETTLED:
                continue
            g = groups[(t["worker"], t["model"], t["role"])]
            g["tasks"] += 1
            g["merged"] += t["merged"]
            g["green_known"] += t["first_try_green"] is not None
            g["green_first"] += bool(t["first_try_green"])
            g["fix_rounds"] += t["fix_rounds"]
            g["conflicts"] += t["conflicts"] > 0
            g["cost_usd"] += t["cost_usd"]
            g["landed"] += t["status"] == "merged"
    return groups


def patch_id(repo: Path, commit: str) -> str:
    """git's id of the change a commit makes against its first parent."""
    diff = git(repo, "diff", f"{commit}^1", commit) + "\n"
    out = subprocess.run(
        ["git", "-C", str(repo), "patch-id", "--stable"], input=diff, text=True,
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return out.split()[0] if out else ""


def check_compare(report: dict[str, Any], db: Path, repo: Path, figures: tuple[str, ...]) -> None:
    """Every figure of `compare --json` equals the one worked out from the store and git."""
    run_ids = [r["run_id"] for r in report["runs"]]
    expected = {run_id: expected_tasks(db, run_id) for run_id in run_ids}
    for row in report["tasks"]:
        for run_id, shown in zip(run_ids, row["runs"], strict=True):
            want = expected[run_id][row["task_id"]]
            for name in figures:
                if name in ("worker", "model") and not want["started"]:
                    continue  # what it would have run on: not in the events
                got = shown[name]
                if isinstance(got, float):
                    assert abs(got - want[name]) < 1e-9, (run_id, row["task_id"], name)
                else:
                    assert got == want[name], (run_id, row["task_id"], name, got, want[name])
        a, b = (expected[r][row["task_id"]] for r in run_ids[:2])
        diff = row["diffs"].get(run_ids[1])
        if a["commit"] and b["commit"] and not (a["taken_over"] or b["taken_over"]):
            same = patch_id(repo, a["commit"]) == patch_id(repo, b["commit"])
            assert diff is not None and (diff["diff"] == "") == same, row["task_id"]
        else:
            assert diff is None, row["task_id"]
    for shown, run_id in zip(report["runs"], run_ids, strict=True):
        tasks = expected[run_id].values()
        totals = shown["totals"]
        assert totals["merged"] == sum(t["merged"] for t in tasks)
        assert totals["taken_over"] == sum(bool(t["taken_over"]) for t in tasks)
        assert abs(totals["cost_usd"] - sum(t["cost_usd"] for t in tasks)) < 1e-9
        assert totals["tokens_in"] == sum(t["tokens_in"] for t in tasks)
        ran = [t for t in tasks if not t["taken_over"]]
        assert totals["fix_rounds"] == sum(t["fix_rounds"] for t in ran)
        assert totals["lines"] == sum(t["lines"] for t in ran)
