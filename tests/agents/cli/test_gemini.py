"""Gemini CLI, for real, against a scripted Gemini API server in a private netns."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.agents.base import WorkerError, WorkerJob
from maestro_tui.agents.coding_cli import DIALECTS, CodingCliWorker
from maestro_tui.config.presets import PRESETS
from maestro_tui.domain.plan import Task
from tests.agents.cli.helpers import big_text, gaps, programs_in_netns
from tests.agents.cli_harness import Lab
from tests.agents.servers.core import RecordedRequest, ToolCall, Turn
from tests.support.recording import RecordingReporter

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]


def tool(name: str, **args: str) -> Callable[[RecordedRequest], Turn]:
    """A turn calling `name`; a relative `file_path` is made absolute in the workdir."""

    def step(request: RecordedRequest) -> Turn:
        assert request.workdir, "Gemini CLI did not list its workspace directory"
        call = dict(args)
        if "file_path" in call:
            call["file_path"] = str(Path(request.workdir) / call["file_path"])
        return Turn(tool_calls=(ToolCall(name, call),))

    return step


def test_writes_replaces_runs_and_writes_a_big_file(make_lab: MakeLab, worktree: Path) -> None:
    big = big_text()
    lab = make_lab(
        "gemini",
        [
            tool("write_file", file_path="hello.py", content="print('hello')\n"),
            tool(
                "replace",
                file_path="greet.py",
                instruction="Greet more warmly.",
                old_string='    return "hello"',
                new_string='    return "hi there"',
            ),
            tool("write_file", file_path="data/big.txt", content=big),
            tool("run_shell_command", command="wc -c < data/big.txt > size.txt"),
            Turn(text="Done: four files."),
        ],
    )
    run = lab.run("Make the changes.", worktree, model="gemini-2.5-flash")

    assert run.exit_code == 0, run.stderr
    assert (worktree / "hello.py").read_text() == "print('hello')\n"
    assert (worktree / "greet.py").read_text() == 'def greet():\n    return "hi there"\n'
    assert (worktree / "data" / "big.txt").read_text() == big
    assert int((worktree / "size.txt").read_text()) == len(big)
    turns = lab.server.turns
    assert [(t.path, t.model) for t in turns] == [
        ("/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash")
    ] * 5
    assert {t.workdir for t in turns} == {str(worktree)}
    assert turns[0].headers["x-goog-api-key"] == lab.cli.key
    assert all(not r.is_error for t in turns for r in t.tool_results)

    init = run.of_type("init")[0]
    assert init["model"] == "gemini-2.5-flash"
    uses = [(u["tool_name"], u["tool_id"]) for u in run.of_type("tool_use")]
    results = [(r["tool_id"], r["status"]) for r in run.of_type("tool_result")]
    assert [name for name, _ in uses] == [
        "write_file",
        "replace",
        "write_file",
        "run_shell_command",
    ]
    assert results == [(tool_id, "success") for _, tool_id in uses]
    said = [m["content"] for m in run.of_type("message") if m["role"] == "assistant"]
    assert "".join(said) == "Done: four files."
    result = run.of_type("result")[-1]
    assert result["status"] == "success" and result["stats"]["tool_calls"] == 4
    assert result["stats"]["input_tokens"] == sum(t.usage[0] for t in turns if t.usage)
    assert result["stats"]["output_tokens"] == sum(t.usage[1] for t in turns if t.usage)


def test_refuses_paths_outside_the_workspace_and_in_git_dirs(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab(
        "gemini",
        [
            tool("write_file", file_path="../outside.txt", content="x\n"),
            tool("write_file", file_path="vendor/.git/config", content="x\n"),
            Turn(text="Could not."),
        ],
    )
    run = lab.run("Write them.", worktree)

    assert run.exit_code == 0
    assert not (worktree.parent / "outside.txt").exists() and not (worktree / "vendor").exists()
    refusals = [r for t in lab.server.turns for r in t.tool_results]
    assert [r.is_error for r in refusals] == [True, True]
    assert all(r.text.startswith("Path not in workspace") for r in refusals)
    errors = [r["error"]["type"] for r in run.of_type("tool_result") if r["status"] == "error"]
    assert errors == ["invalid_tool_params", "invalid_tool_params"]
    assert run.of_type("result")[-1]["status"] == "success"


def test_retries_a_429_itself_after_about_five_seconds(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("gemini", [Turn(text="Fine now.")])
    lab.server.fail("rate_limit", times=1)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == 0
    assert [t.status for t in lab.server.turns] == [429, 200]
    assert 3.0 <= gaps(lab.server.turns)[0] <= 12.0  # 5 s ± 30 %, and room for a busy machine
    assert "Attempt 1 failed with status 429" in run.stderr


@pytest.mark.parametrize(
    ("fault", "exit_code", "message"),
    [
        # The exit code is the HTTP status, truncated to a byte: 429 -> 173, 401 -> 145.
        ("usage_limit", 173, "You have exhausted your daily quota on this model."),
        ("bad_key", 145, "API key not valid"),
    ],
)
def test_a_daily_quota_or_a_bad_key_ends_at_once_with_an_error_result(
    make_lab: MakeLab, worktree: Path, fault: str, exit_code: int, message: str
) -> None:
    lab = make_lab("gemini")
    lab.server.fail(fault, times=5)
    run = lab.run("Say something.", worktree)

    assert run.exit_code == exit_code
    assert len(lab.server.turns) == 1
    result = run.of_type("result")[-1]
    assert result["status"] == "error" and message in result["error"]["message"]


def test_hangs_on_a_server_that_never_answers(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("gemini")
    lab.server.fail("stall", times=5)
    run = lab.run("Say something.", worktree, stalled_for_s=3)

    assert run.timed_out and run.exit_code is None
    assert len(lab.server.turns) == 1
    assert [line["type"] for line in run.json_lines()] == ["init", "message"]


def test_resumes_a_session_it_was_given_the_id_of(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("gemini", [Turn(text="The word is PAPAYA."), Turn(text="It was PAPAYA.")])
    session = str(uuid.uuid4())
    first = lab.run("Remember a word.", worktree, extra=["--session-id", session])
    second = lab.run("Which word?", worktree, home=lab.last_home(), extra=["--resume", session])

    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.of_type("init")[0]["session_id"] == session
    assert second.of_type("init")[0]["session_id"] == session
    history = str(lab.server.turns[1].body["contents"])
    assert "The word is PAPAYA." in history and "Remember a word." in history


async def test_a_dead_endpoint_is_said_once_and_the_attempt_stopped_early(
    make_lab: MakeLab, worktree: Path, tmp_path: Path
) -> None:
    """GOOGLE_GEMINI_BASE_URL at a closed port: alone, the CLI tries ten times over ~230 s and
    prints 11 lines of Node stack per try. Its preset worker stops it at the second refusal
    and says so in one line: the endpoint, that it refuses connections, what to check."""
    lab = make_lab("gemini")
    with lab.netns.entered(), socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{free.getsockname()[1]}"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": programs_in_netns(lab.netns, tmp_path / "bin", "gemini"),
        "HOME": str(home),
        "GEMINI_API_KEY": lab.cli.key,
        "GOOGLE_GEMINI_BASE_URL": dead,
        "GEMINI_MODEL": "gemini-2.5-flash",
    }
    task = Task(id="t1", title="Say hello", prompt="Say hello.")
    job = WorkerJob(
        run_id="r1", task=task, attempt=1, worktree=worktree, env=env, agent_dir=tmp_path / "a"
    )
    reporter = RecordingReporter()
    started = time.monotonic()
    with lab.netns.entered():  # the worker's probe of the endpoint, from where the CLI was
        with pytest.raises(WorkerError) as failed:
            await CodingCliWorker(PRESETS["gemini"], DIALECTS["gemini"]).run(job, reporter)
    took = time.monotonic() - started

    said = (
        f"Gemini CLI cannot reach its model endpoint {dead}: connection refused; stopped after"
        " 2 tries rather than retry for minutes. Check GOOGLE_GEMINI_BASE_URL, and that the"
        " model server there is running."
    )
    assert str(failed.value) == said
    shown = [text for text, stream in reporter.outputs if stream != "llm"]
    assert shown.count(said) == 1
    assert not [text for text in shown if text.lstrip().startswith("at ") or "fetch" in text]
    assert len(shown) <= 3, shown  # its banner, and the one line
    assert took < 60, f"{took:.0f} s"  # ~10 s: start, a try, ~5 s of backoff, a try
