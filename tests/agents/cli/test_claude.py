"""Claude Code, for real, against a scripted Anthropic Messages server in a private netns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agents.cli.helpers import big_text, gaps, git
from tests.agents.cli_harness import Lab
from tests.agents.servers.core import Fault, RecordedRequest, ToolCall, Turn

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]


def tool(name: str, **args: object) -> Callable[[RecordedRequest], Turn]:
    """A turn calling `name`; a `file_path` given relative is made absolute in the workdir."""

    def step(request: RecordedRequest) -> Turn:
        assert request.workdir, "Claude Code did not announce its working directory"
        call = dict(args)
        if "file_path" in call:
            call["file_path"] = str(Path(request.workdir) / str(call["file_path"]))
        return Turn(text=f"Using {name}.", tool_calls=(ToolCall(name, call),))

    return step


def test_writes_edits_and_writes_a_big_file_with_its_own_tools(
    make_lab: MakeLab, worktree: Path
) -> None:
    big = big_text()
    lab = make_lab(
        "claude",
        [
            tool("Write", file_path="hello.py", content="print('hello')\n"),
            tool("Read", file_path="greet.py"),  # as a model would, before editing
            tool("Edit", file_path="greet.py", old_string='"hello"', new_string='"hi there"'),
            tool("Write", file_path="data/big.txt", content=big),
            Turn(text="Done: three files."),
        ],
    )
    run = lab.run("Make the changes.", worktree, model="claude-sonnet-4-5")

    assert run.exit_code == 0, run.stderr
    assert (worktree / "hello.py").read_text() == "print('hello')\n"
    assert (worktree / "greet.py").read_text() == 'def greet():\n    return "hi there"\n'
    assert (worktree / "data" / "big.txt").read_text() == big
    turns = lab.server.turns
    assert [t.model for t in turns] == ["claude-sonnet-4-5"] * 5
    assert {t.workdir for t in turns} == {str(worktree)}
    assert all(not r.is_error for t in turns for r in t.tool_results)
    assert lab.server.script_errors == []

    init = run.of_type("system")[0]
    result = run.of_type("result")[-1]
    assert (init["subtype"], init["model"], init["cwd"]) == (
        "init",
        "claude-sonnet-4-5",
        str(worktree),
    )
    assert (result["subtype"], result["is_error"], result["result"]) == (
        "success",
        False,
        "Done: three files.",
    )
    assert result["session_id"] == init["session_id"]
    # The meters: the CLI adds up exactly what the server reported, and prices it itself.
    assert result["usage"]["input_tokens"] == sum(t.usage[0] for t in turns if t.usage)
    assert result["usage"]["output_tokens"] == sum(t.usage[1] for t in turns if t.usage)
    assert result["modelUsage"]["claude-sonnet-4-5"]["costUSD"] == pytest.approx(
        result["total_cost_usd"]
    )
    assert result["total_cost_usd"] > 0


def test_refuses_git_dirs_and_paths_outside_its_cwd_yet_exits_0(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab(
        "claude",
        [
            tool("Write", file_path="vendor/.git/config", content="x\n"),
            tool("Write", file_path="../outside.txt", content="x\n"),
            Turn(text="I could not write them."),
        ],
    )
    run = lab.run("Write the files.", worktree)

    assert run.exit_code == 0
    refusals = [r for t in lab.server.turns for r in t.tool_results]
    assert [r.is_error for r in refusals] == [True, True]
    assert "which is a sensitive file" in refusals[0].text
    assert "you haven't granted it yet" in refusals[1].text
    assert not (worktree / "vendor").exists() and not (worktree.parent / "outside.txt").exists()
    result = run.of_type("result")[-1]
    assert result["is_error"] is False
    assert [d["tool_name"] for d in result["permission_denials"]] == ["Write", "Write"]


def test_refuses_every_edit_when_its_cwd_is_inside_dot_git(
    make_lab: MakeLab, worktree: Path
) -> None:
    repo = worktree.parent.parent / "repo"
    inside = repo / ".git" / "maestro-worktrees" / "task-2"
    git(repo, "worktree", "add", "-q", "-b", "task-2", str(inside))
    lab = make_lab(
        "claude", [tool("Write", file_path="notes.txt", content="x\n"), Turn(text="No.")]
    )
    run = lab.run("Write notes.txt.", inside)

    assert run.exit_code == 0
    assert not (inside / "notes.txt").exists()
    assert "sensitive file" in lab.server.turns[1].tool_results[0].text


def test_retries_a_429_itself_after_the_retry_after_delay(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("claude", [Turn(text="Fine now.")])
    lab.server.fail(Fault("rate_limit", retry_after_s=1), times=1)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == 0
    assert [t.status for t in lab.server.turns] == [429, 200]
    assert gaps(lab.server.turns)[0] >= 0.95
    retry = run.of_type("system")[1]
    assert (retry["subtype"], retry["error_status"], retry["error"]) == (
        "api_retry",
        429,
        "rate_limit",
    )
    assert 900 <= retry["retry_delay_ms"] <= 1500


def test_a_usage_limit_is_retried_like_a_429_then_ends_in_an_error_result(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("claude")
    lab.server.fail("usage_limit", times=10)
    # Ten retries by default (about three minutes); one is enough to see the end.
    run = lab.run("Say something.", worktree, env={"CLAUDE_CODE_MAX_RETRIES": "1"})

    assert run.exit_code == 1
    assert [t.status for t in lab.server.turns] == [429, 429]
    result = run.of_type("result")[-1]
    assert (result["is_error"], result["api_error_status"], result["terminal_reason"]) == (
        True,
        429,
        "api_error",
    )
    assert "usage limit reached" in result["result"]


def test_a_bad_key_ends_in_an_error_result_with_exit_1(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("claude")
    lab.server.fail("bad_key", times=20)
    # It retries a 401 too (ten times by default); with no retry it stops at once.
    run = lab.run("Say something.", worktree, env={"CLAUDE_CODE_MAX_RETRIES": "0"})

    assert run.exit_code == 1
    assert len(lab.server.turns) == 1
    assert lab.server.turns[0].headers["x-api-key"] == lab.cli.key
    result = run.of_type("result")[-1]
    assert (result["is_error"], result["api_error_status"]) == (True, 401)
    assert result["result"].startswith("Invalid API key")


def test_hangs_on_a_server_that_never_answers(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("claude")
    lab.server.fail("stall", times=5)
    run = lab.run("Say something.", worktree, stalled_for_s=3)

    assert run.timed_out and run.exit_code is None
    assert len(lab.server.turns) == 1  # asked once, then waited: only a watchdog ends this
    assert run.of_type("system")[0]["subtype"] == "init"
    assert run.of_type("result") == []


def test_resumes_a_session_by_id(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("claude", [Turn(text="The word is PAPAYA."), Turn(text="It was PAPAYA.")])
    first = lab.run("Remember a word.", worktree)
    session = first.of_type("result")[-1]["session_id"]
    second = lab.run("Which word?", worktree, home=lab.last_home(), extra=["--resume", session])

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert second.of_type("result")[-1]["session_id"] == session
    history = str(lab.server.turns[1].body["messages"])
    assert "The word is PAPAYA." in history and "Remember a word." in history
