"""What each coding CLI is started with, beyond its preset: the model, the session to go on
with, and the flags a run needs (all per run: the user's own config files are never written)."""

from __future__ import annotations

import json
from pathlib import Path

from maestro_tui.agents.base import WorkerJob
from maestro_tui.agents.coding_cli import DIALECTS, CodingCliWorker, resume_prompt
from maestro_tui.config.presets import PRESETS
from maestro_tui.domain.plan import Task


def argv(name: str, tmp_path: Path, session: str = "", model: str = "", **env: str) -> list[str]:
    worker = CodingCliWorker(PRESETS[name], DIALECTS[name])
    (tmp_path / "wt").mkdir(exist_ok=True)
    (tmp_path / "wt" / "a.py").write_text("")
    task = Task(id="t", title="T", prompt="Do it.", files=("a.py", "new/b.py"))
    job = WorkerJob(run_id="r", task=task, attempt=1, worktree=tmp_path / "wt")
    return worker._argv(job, "PROMPT", session, model, dict(env), tmp_path / "agent")


def test_claude_model_and_resume_come_last(tmp_path: Path) -> None:
    got = argv("claude", tmp_path, session="s-1", model="claude-haiku-4-5")
    assert got[:3] == ["claude", "-p", "PROMPT"]
    assert got[-4:] == ["--model", "claude-haiku-4-5", "--resume", "s-1"]
    assert "--include-partial-messages" in got  # each turn's usage, for budgets mid-run


def test_codex_resume_and_its_settings_go_before_the_prompt(tmp_path: Path) -> None:
    got = argv("codex", tmp_path, session="th-1", model="gpt-5.5")
    assert got[-5:] == ["-m", "gpt-5.5", "resume", "th-1", "PROMPT"]
    settings = [got[i + 1] for i, a in enumerate(got) if a == "-c"]
    assert "analytics.enabled=false" in settings
    assert "sandbox_workspace_write.exclude_slash_tmp=true" in settings
    assert not any("model_provider" in s for s in settings)  # no base URL: its own provider


def test_codex_with_a_base_url_gets_a_provider_pointing_there(tmp_path: Path) -> None:
    got = argv("codex", tmp_path, OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    settings = [got[i + 1] for i, a in enumerate(got) if a == "-c"]
    assert 'model_provider="maestro-openai"' in settings
    table = next(s for s in settings if s.startswith("model_providers.maestro-openai="))
    assert json.dumps("http://127.0.0.1:9/v1") in table and 'env_key="OPENAI_API_KEY"' in table
    assert got[-1] == "PROMPT"


def test_gemini_model_and_resume(tmp_path: Path) -> None:
    got = argv("gemini", tmp_path, session="g-1", model="gemini-2.5-pro")
    assert got[-4:] == ["-m", "gemini-2.5-pro", "--resume", "g-1"]


def test_aider_keeps_its_files_out_of_the_worktree_and_gets_only_files_that_exist(
    tmp_path: Path,
) -> None:
    got = argv("aider", tmp_path, model="openai/gpt-4.1")
    assert got[:3] == ["aider", "--model", "openai/gpt-4.1"]
    agent = tmp_path / "agent"
    assert got[got.index("--chat-history-file") + 1] == str(agent / "aider.chat.history.md")
    assert got[got.index("--analytics-log") + 1] == str(agent / "aider.usage.jsonl")
    assert "--no-analytics" in got and "--analytics-disable" not in got  # that one is forever
    assert got[-1] == "a.py" and "new/b.py" not in got


def test_a_resumed_session_is_told_only_what_is_new() -> None:
    task = Task(id="t", title="T", prompt="Do the whole task.")
    job = WorkerJob(run_id="r", task=task, attempt=1, worktree=Path("."), feedback="2 failed")
    assert resume_prompt(job).startswith("## Feedback on your work\n\n2 failed")
    assert "Do the whole task." not in resume_prompt(job)
