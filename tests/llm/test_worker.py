"""LLMWorker's tool loop against the loopback server: edits, refusals, context hygiene."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.agents.base import Worker, WorkerError, WorkerJob
from maestro_tui.domain.plan import Task
from maestro_tui.llm.client import LLMClient
from maestro_tui.llm.worker import LineBuffer, LLMWorker
from maestro_tui.process import Sandbox
from tests.llm.conftest import API_KEY, child_env, git
from tests.llm.fakeserver import FakeChatServer, Reply
from tests.support.recording import RecordingReporter


def make_worker(server: FakeChatServer, **kwargs: Any) -> LLMWorker:
    client = LLMClient(
        "openai/fake-model",
        api_base=server.api_base,
        api_key=API_KEY,
        prices={"openai/fake-model": (1.0, 2.0)},
        backoff_s=0.01,
        timeout_s=5,
    )
    options: dict[str, Any] = {"client": client, "allowed_commands": ["python"]}
    options.update(kwargs)
    return LLMWorker(**options)


def make_job(worktree: Path, **kwargs: Any) -> WorkerJob:
    task = Task(
        id="t1", title="Add gamma", prompt="Add pkg/c.py with gamma().", files=("pkg/a.py",)
    )
    options: dict[str, Any] = {
        "run_id": "r1",
        "task": task,
        "attempt": 1,
        "worktree": worktree,
        "env": child_env(),
    }
    options.update(kwargs)
    return WorkerJob(**options)


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def worktree_of(repo: Path) -> Path:
    path = repo.parent / "wt-t1"
    git(repo, "worktree", "add", "-q", "-b", "maestro/r1/t1", str(path))
    return path


async def test_tool_loop_writes_a_file_runs_tests_and_finishes(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    wt = worktree_of(repo)
    server.script(
        Reply(
            text="Let me look.\nReading a.py first.",
            tool_calls=[("read_file", {"path": "pkg/a.py"})],
        ),
        Reply(
            tool_calls=[
                ("write_file", {"path": "pkg/c.py", "content": "def gamma():\n    return 3\n"})
            ]
        ),
        Reply(
            tool_calls=[
                ("run_command", {"command": "python -c 'import pkg.c; print(pkg.c.gamma())'"})
            ]
        ),
        Reply(
            text="All good.", tool_calls=[("finish", {"summary": "Add gamma\n\nNeeded by beta."})]
        ),
    )
    worker = make_worker(server)
    assert isinstance(worker, Worker)
    result = await worker.run(make_job(wt), reporter)
    assert result.summary == "Add gamma\n\nNeeded by beta."
    assert (result.agent, result.model) == ("llm", "openai/fake-model")
    assert (wt / "pkg" / "c.py").read_text() == "def gamma():\n    return 3\n"
    assert not (repo / "pkg" / "c.py").exists()  # the main checkout is untouched
    assert len(server.requests) == 4
    assert "MARKER_A" in tool_results(server.requests[1])[0]
    assert tool_results(server.requests[3])[-1].startswith("exit code 0\n3")
    assert [t["tool"] for t in reporter.tools] == [
        "read_file",
        "write_file",
        "run_command",
        "finish",
    ]
    assert ("Let me look.", "llm") in reporter.outputs
    assert ("Reading a.py first.", "llm") in reporter.outputs
    assert len(reporter.usages) == 4
    assert reporter.usages[0]["cost_usd"] == pytest.approx((12 * 1.0 + 7 * 2.0) / 1e6)
    assert reporter.usages[0]["simulated"] is False
    assistant = server.requests[1]["messages"][2]
    assert assistant["role"] == "assistant"
    assert assistant["tool_calls"][0]["function"]["name"] == "read_file"


async def test_context_hygiene_only_the_tasks_own_files(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(Reply(tool_calls=[("finish", {"summary": "nothing to do"})]))
    job = make_job(repo, context="Standards: PEP 8.\nUpstream t0: added alpha.", feedback="")
    await make_worker(server).run(job, reporter)
    sent = json.dumps(server.requests[0]["messages"])
    assert "MARKER_A" in sent and "def alpha" in sent
    assert "MARKER_B" not in sent and "class Beta" not in sent
    assert "Standards: PEP 8." in sent and "Upstream t0: added alpha." in sent
    assert "previous attempt failed" not in sent
    system, user = server.requests[0]["messages"]
    assert system["role"] == "system" and "run_command" in system["content"]
    assert "python" in system["content"]  # the allow-list is stated
    assert user["content"].startswith("Task id: t1\nTitle: Add gamma")


async def test_feedback_of_a_failed_attempt_is_sent(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(Reply(tool_calls=[("finish", {"summary": "fixed"})]))
    await make_worker(server).run(make_job(repo, feedback="FAILED test_gamma"), reporter)
    assert "FAILED test_gamma" in server.requests[0]["messages"][1]["content"]


async def test_escapes_come_back_as_tool_errors_and_touch_nothing(
    server: FakeChatServer, repo: Path, tmp_path: Path, reporter: RecordingReporter
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "out").symlink_to(outside, target_is_directory=True)
    server.script(
        Reply(
            tool_calls=[
                ("write_file", {"path": "../x", "content": "x"}),
                ("read_file", {"path": "/etc/passwd"}),
                ("write_file", {"path": "out/evil.py", "content": "x"}),
                ("run_command", {"command": "rm -rf pkg"}),
            ]
        ),
        Reply(tool_calls=[("finish", {"summary": "gave up"})]),
    )
    result = await make_worker(server).run(make_job(repo), reporter)
    assert result.summary == "gave up"
    errors = tool_results(server.requests[1])
    assert len(errors) == 4 and all(e.startswith("error: ") for e in errors)
    assert "root:" not in errors[1]
    assert not (tmp_path / "x").exists() and list(outside.iterdir()) == []
    assert (repo / "pkg" / "a.py").exists()
    assert [t["ok"] for t in reporter.tools] == [False, False, False, False, True]


async def test_bad_json_arguments_are_reported_back(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(
        Reply(tool_calls=[("write_file", '{"path": "a.py", "content": ')]),
        Reply(tool_calls=[("finish", {"summary": "ok"})]),
    )
    await make_worker(server).run(make_job(repo), reporter)
    assert "not valid JSON" in tool_results(server.requests[1])[0]


async def test_text_without_tools_is_nudged(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(
        Reply(text="I think I am done."), Reply(tool_calls=[("finish", {"summary": "s"})])
    )
    await make_worker(server).run(make_job(repo), reporter)
    assert server.requests[1]["messages"][-1]["role"] == "user"
    assert "call finish" in server.requests[1]["messages"][-1]["content"]


async def test_max_turns_without_finish_is_a_worker_error(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.responder = lambda body: Reply(tool_calls=[("list_files", {})])
    with pytest.raises(WorkerError, match="no finish after 3 turns"):
        await make_worker(server, max_turns=3).run(make_job(repo), reporter)
    assert len(server.requests) == 3 and len(reporter.usages) == 3


async def test_model_failure_is_a_worker_error_without_the_key(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(Reply(status=401, error_body=f'{{"error": {{"message": "bad key {API_KEY}"}}}}'))
    with pytest.raises(WorkerError) as info:
        await make_worker(server).run(make_job(repo), reporter)
    assert "AuthenticationError" in str(info.value) and API_KEY not in str(info.value)


async def test_a_retried_model_call_is_visible_in_the_log(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    server.script(Reply(status=429), Reply(tool_calls=[("finish", {"summary": "ok"})]))
    await make_worker(server).run(make_job(repo), reporter)
    retries = [text for text, stream in reporter.outputs if stream == "stderr"]
    assert len(retries) == 1 and retries[0].startswith("model call failed, retry 1 in ")
    assert "RateLimitError" in retries[0] and API_KEY not in retries[0]


def test_line_buffer_joins_fragments_into_lines() -> None:
    lines: list[str] = []
    buffer = LineBuffer(lines.append)
    for fragment in ["Hel", "lo\nwor", "ld\n\nlast"]:
        buffer.feed(fragment)
    assert lines == ["Hello", "world", ""]
    buffer.flush()
    assert lines[-1] == "last"


def test_worker_needs_exactly_one_client_source() -> None:
    with pytest.raises(ValueError):
        LLMWorker()


async def test_a_message_from_the_human_joins_the_next_turn(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    from maestro_tui.agents.base import Mailbox, Steerable

    delivered: list[str] = []
    mailbox = Mailbox(delivered.append)
    server.script(
        Reply(tool_calls=[("list_files", {})]),
        Reply(tool_calls=[("finish", {"summary": "done, with tabs"})]),
    )
    worker = make_worker(server)
    assert isinstance(worker, Steerable) and worker.steering == "at its next turn"
    original = server.next_reply

    def said_after_first_turn(body: dict[str, Any]) -> Reply:
        reply = original(body)
        if len(server.requests) == 1:
            mailbox.put("use tabs, not spaces")  # while the agent works on turn one
        return reply

    server.next_reply = said_after_first_turn  # type: ignore[method-assign]
    await worker.run(make_job(repo, mailbox=mailbox), reporter)
    first, second = (json.dumps(r["messages"]) for r in server.requests)
    assert "use tabs, not spaces" not in first
    last_user = [m for m in server.requests[1]["messages"] if m["role"] == "user"][-1]
    assert last_user["content"].endswith("use tabs, not spaces")
    assert "supervising this run" in last_user["content"]
    assert delivered == ["use tabs, not spaces"] and len(mailbox) == 0


@pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed: apt-get install bubblewrap"
)
async def test_run_command_runs_in_the_jobs_sandbox(
    server: FakeChatServer, repo: Path, reporter: RecordingReporter
) -> None:
    wt = worktree_of(repo)
    target = repo / "escaped.py"
    escape = f"python -c \"open('{target}', 'w').write('x')\""
    server.script(
        Reply(tool_calls=[("run_command", {"command": escape})]),
        Reply(tool_calls=[("run_command", {"command": "python -c \"open('made', 'w')\""})]),
        Reply(tool_calls=[("finish", {"summary": "Tried"})]),
    )
    sandbox = Sandbox(hidden=(repo,), read_only=(repo / ".git",)).for_task(wt)
    result = await make_worker(server).run(make_job(wt, sandbox=sandbox), reporter)
    assert result.summary == "Tried"
    denied, made = tool_results(server.requests[2])
    assert denied.startswith("exit code 1\n") and "Read-only file system" in denied, denied
    assert made.startswith("exit code 0"), made
    assert not target.exists() and (wt / "made").exists()
