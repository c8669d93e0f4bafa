"""A headless run tells the user's hook, with JSON on stdin, when a merge waits and when it ends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.e2e.conftest import run_plan, write_config

PLAN = """
goal = "two edits of one line"

[[tasks]]
id = "two"
title = "Version two"
prompt = "@write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 2\\\\nDEBUG = False"
files = ["calc/settings.py"]

[[tasks]]
id = "three"
title = "Version three"
prompt = "@write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 3\\\\nDEBUG = False"
files = ["calc/settings.py"]
"""
AT_ONCE = ("--overlaps", "parallel")  # or the plan orders them, and nothing conflicts


def test_the_hook_hears_of_the_waiting_merge_and_the_end(project: Path, tmp_path: Path) -> None:
    got = tmp_path / "notices.jsonl"
    hook = f"import sys; open({str(got)!r}, 'a').write(sys.stdin.read())"
    argv = json.dumps([sys.executable, "-c", hook])
    extra = f"[notify]\ndesktop = false\ncommand = {argv}\n"
    write_config(project, tmp_path / "fake-state", extra)
    result, _db = run_plan(project, tmp_path, PLAN, "--agents", "2", "--merge", "auto", *AT_ONCE)
    assert result.returncode == 3, result.stderr  # the conflict waits for review
    notices = [json.loads(line) for line in got.read_text().splitlines()]
    kinds = [n["kind"] for n in notices]
    assert kinds == ["merge_waiting", "run_finished"], notices
    assert notices[0]["task"] in ("two", "three") and "conflicts" in notices[0]["body"]
    assert notices[1]["title"] == "run waiting"


def test_a_broken_hook_is_reported_once_and_the_run_goes_on(project: Path, tmp_path: Path) -> None:
    extra = '[notify]\ndesktop = false\ncommand = ["maestro-no-such-hook"]\n'
    write_config(project, tmp_path / "fake-state", extra)
    result, _db = run_plan(project, tmp_path, PLAN, "--agents", "2", *AT_ONCE)
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stdout.splitlines() if "notifications through" in line]
    assert len(lines) == 1 and "'maestro-no-such-hook' is not installed" in lines[0]
