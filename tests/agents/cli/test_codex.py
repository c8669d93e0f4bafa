"""Codex, for real, against a scripted OpenAI Responses server in a private netns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agents.cli.helpers import big_text, gaps
from tests.agents.cli_harness import Lab
from tests.agents.servers.core import Fault, ToolCall, Turn
from tests.agents.servers.openai_responses import apply_patch_add, apply_patch_update

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]
# Without these, workspace-write also lets the agent write anywhere under /tmp and $TMPDIR.
ONLY_THE_WORKTREE = [
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
    "-c",
    "sandbox_workspace_write.exclude_tmpdir_env_var=true",
]


def patch(body: str) -> Turn:
    return Turn(tool_calls=(ToolCall("apply_patch", body),))


def shell(cmd: str) -> Turn:
    return Turn(tool_calls=(ToolCall("exec_command", {"cmd": cmd}),))


def tool_names(lab: Lab) -> set[str]:
    return {t.get("name", t.get("type")) for t in lab.server.turns[0].body["tools"]}


def test_patches_runs_commands_and_writes_a_big_file(make_lab: MakeLab, worktree: Path) -> None:
    big = big_text()
    lab = make_lab(
        "codex",
        [
            patch(apply_patch_add("hello.py", "print('hello')")),
            patch(apply_patch_update("greet.py", '    return "hello"', '    return "hi there"')),
            patch(apply_patch_add("data/big.txt", big)),
            shell("wc -c < data/big.txt > size.txt"),
            Turn(text="Done: four files."),
        ],
    )
    run = lab.run("Make the changes.", worktree, model="gpt-5.5", extra=ONLY_THE_WORKTREE)

    assert run.exit_code == 0, run.stderr
    assert (worktree / "hello.py").read_text() == "print('hello')\n"
    assert (worktree / "greet.py").read_text() == 'def greet():\n    return "hi there"\n'
    assert (worktree / "data" / "big.txt").read_text() == big
    assert int((worktree / "size.txt").read_text()) == len(big)
    turns = lab.server.turns
    assert [t.model for t in turns] == ["gpt-5.5"] * 5
    assert {t.workdir for t in turns} == {str(worktree)}
    assert turns[0].headers["authorization"] == f"Bearer {lab.cli.key}"
    assert "apply_patch" in tool_names(lab) and "exec_command" in tool_names(lab)

    kinds = [line["type"] for line in run.json_lines()]
    assert kinds[:2] == ["thread.started", "turn.started"] and kinds[-1] == "turn.completed"
    changes = [
        i["item"] for i in run.of_type("item.completed") if i["item"]["type"] == "file_change"
    ]
    assert [(c["changes"][0]["kind"], Path(c["changes"][0]["path"]).name) for c in changes] == [
        ("add", "hello.py"),
        ("update", "greet.py"),
        ("add", "big.txt"),
    ]
    command = [i["item"] for i in run.of_type("item.completed")][3]
    assert (command["type"], command["exit_code"], command["status"]) == (
        "command_execution",
        0,
        "completed",
    )
    assert run.of_type("item.completed")[-1]["item"]["text"] == "Done: four files."
    usage = run.of_type("turn.completed")[0]["usage"]
    assert usage["input_tokens"] == sum(t.usage[0] for t in turns if t.usage)
    assert usage["output_tokens"] == sum(t.usage[1] for t in turns if t.usage)


def test_an_unknown_model_reaches_the_server_without_the_patch_tool(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("codex", [Turn(text="ok")])
    run = lab.run("Say ok.", worktree, model="lab-model-7")

    assert run.exit_code == 0
    assert lab.server.turns[0].model == "lab-model-7"
    assert "apply_patch" not in tool_names(lab)
    warning = run.of_type("item.completed")[0]["item"]
    assert warning["type"] == "error" and "lab-model-7" in warning["message"]


def test_refuses_writes_outside_the_worktree_silently_in_its_json(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab(
        "codex",
        [
            patch(apply_patch_add("../outside.txt", "x")),
            shell("echo x > ../shell-outside.txt"),
            Turn(text="Could not."),
        ],
    )
    run = lab.run("Write outside.", worktree, extra=ONLY_THE_WORKTREE)

    assert run.exit_code == 0
    assert not list(worktree.parent.glob("*outside.txt"))
    patch_result, shell_result = (t.tool_results[0].text for t in lab.server.turns[1:])
    assert patch_result.startswith("patch rejected: writing outside of the project")
    assert "Read-only file system" in shell_result
    # Neither attempt shows up as an item: only stderr tells of the rejected patch.
    assert [i["item"]["type"] for i in run.of_type("item.completed")] == ["agent_message"]
    assert "patch rejected" in run.stderr


def test_a_429_without_retry_after_fails_the_turn_at_once(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("codex", [Turn(text="Never seen.")])
    lab.server.fail("rate_limit", times=1)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == 1
    assert len(lab.server.turns) == 1
    failed = run.of_type("turn.failed")[0]["error"]["message"]
    assert failed == "exceeded retry limit, last status: 429 Too Many Requests"


def test_a_429_with_retry_after_is_retried_after_that_delay(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("codex", [Turn(text="Fine now.")])
    lab.server.fail(Fault("rate_limit", retry_after_s=1), times=1)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == 0
    assert [t.status for t in lab.server.turns] == [429, 200]
    assert gaps(lab.server.turns)[0] >= 0.95
    assert run.of_type("error")[0]["message"].startswith("Reconnecting... 1/5")


def test_a_usage_limit_is_final(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("codex", [Turn(text="Never seen.")])
    lab.server.fail("usage_limit", times=1)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == 1
    assert len(lab.server.turns) == 1
    assert "hit your usage limit" in run.of_type("turn.failed")[0]["error"]["message"]


def test_a_bad_key_is_retried_as_a_reconnect_then_fails(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("codex")
    lab.server.fail("bad_key", times=20)
    # Five reconnects by default (about 6.5 s); one shows the same shape.
    run = lab.run(
        "Say something.", worktree, extra=["-c", "model_providers.lab.stream_max_retries=1"]
    )

    assert run.exit_code == 1
    assert [t.status for t in lab.server.turns] == [401, 401]
    errors = [e["message"] for e in run.of_type("error")]
    assert errors[0].startswith("Reconnecting... 1/1 (unexpected status 401 Unauthorized")
    assert "401 Unauthorized" in run.of_type("turn.failed")[0]["error"]["message"]


def test_hangs_on_a_server_that_never_answers(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("codex")
    lab.server.fail("stall", times=5)
    run = lab.run(
        "Say something.",
        worktree,
        stalled_for_s=3,
        # The idle timeout only counts once the response has started: no help here.
        extra=["-c", "model_providers.lab.stream_idle_timeout_ms=1000"],
    )

    assert run.timed_out and run.exit_code is None
    assert len(lab.server.turns) == 1
    assert [line["type"] for line in run.json_lines()] == ["thread.started", "turn.started"]


def test_resumes_a_thread_by_id(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("codex", [Turn(text="The word is PAPAYA."), Turn(text="It was PAPAYA.")])
    first = lab.run("Remember a word.", worktree)
    thread = first.of_type("thread.started")[0]["thread_id"]
    second = lab.run("Which word?", worktree, home=lab.last_home(), extra=["resume", thread])

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert second.of_type("thread.started")[0]["thread_id"] == thread
    history = str(lab.server.turns[1].body["input"])
    assert "The word is PAPAYA." in history and "Remember a word." in history
