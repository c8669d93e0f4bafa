"""Aider, for real, against a scripted Chat Completions server (through litellm) in a netns."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.agents.base import WorkerJob
from maestro_tui.agents.coding_cli import DIALECTS, CodingCliWorker
from maestro_tui.config.presets import PRESETS
from maestro_tui.domain.plan import Task
from maestro_tui.watch import watching
from tests.agents.cli.e2e import Moves
from tests.agents.cli.helpers import big_text, gaps, programs_in_netns
from tests.agents.cli_harness import Lab
from tests.agents.servers.core import Turn
from tests.agents.servers.openai_chat import whole_edit
from tests.support.recording import RecordingReporter

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]


def test_whole_edits_create_and_change_files_including_a_big_one(
    make_lab: MakeLab, worktree: Path
) -> None:
    big = big_text()
    reply = "\n".join(
        [
            whole_edit("greet.py", 'def greet():\n    return "hi there"\n', "Here you go."),
            whole_edit("hello.py", "print('hello')\n"),
            whole_edit("data/big.txt", big),
        ]
    )
    lab = make_lab("aider", [Turn(text=reply, usage=(1234, 56))])
    run = lab.run("Make the changes.", worktree, model="openai/gpt-4o", extra=["greet.py"])

    assert run.exit_code == 0, run.stderr
    assert (worktree / "greet.py").read_text() == 'def greet():\n    return "hi there"\n'
    assert (worktree / "hello.py").read_text() == "print('hello')\n"
    assert (worktree / "data" / "big.txt").read_text() == big
    turn, summary = lab.server.turns
    assert (turn.model, turn.body.get("stream", False)) == ("gpt-4o", False)
    assert turn.headers["authorization"] == f"Bearer {lab.cli.key}"
    # The 200 KB reply overflows its chat history: it has the weak model summarise it.
    assert summary.model == "gpt-4o-mini"
    assert summary.body["messages"][-1]["content"].startswith("# USER\nMake the changes.")
    lines = run.stdout.splitlines()
    assert "Main model: openai/gpt-4o with whole edit format" in lines
    assert "Tokens: 1.2k sent, 56 received. Cost: $0.0036 message, $0.0036 session." in lines
    applied = sorted(line for line in lines if line.startswith("Applied edit to "))  # any order
    assert applied == [f"Applied edit to {f}" for f in ("data/big.txt", "greet.py", "hello.py")]
    # It leaves its own files in the worktree: a task's commit must not pick them up.
    assert (worktree / ".aider.chat.history.md").exists()


def test_an_edit_outside_the_repo_aborts_the_whole_reply(make_lab: MakeLab, worktree: Path) -> None:
    reply = whole_edit("greet.py", "print(1)\n") + "\n" + whole_edit("../outside.txt", "x\n")
    lab = make_lab("aider", [Turn(text=reply)])
    run = lab.run("Edit.", worktree, extra=["greet.py"])

    assert run.exit_code == 0
    # No refusal: it creates the outside file (empty), then `git add` fails and nothing applies.
    assert (worktree.parent / "outside.txt").read_text() == ""
    assert (worktree / "greet.py").read_text() == 'def greet():\n    return "hello"\n'
    assert "is outside repository" in run.stdout
    assert "Applied edit" not in run.stdout


def test_a_429_and_a_quota_error_are_retried_by_the_openai_client_within_seconds(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("aider", [Turn(text="Fine now.", usage=(900, 5))])
    lab.server.fail("rate_limit").fail("usage_limit")
    # An unpriced model: the name reaches the server as given after "openai/", and no cost.
    run = lab.run("Say something.", worktree, model="openai/lab-model-7", extra=["greet.py"])

    assert run.exit_code == 0
    turns = lab.server.turns
    assert [(t.status, t.model) for t in turns] == [(429, "lab-model-7")] * 2 + [
        (200, "lab-model-7")
    ]
    assert [t.headers["x-stainless-retry-count"] for t in turns] == ["0", "1", "2"]
    assert all(0.2 <= gap <= 4.0 for gap in gaps(turns))  # ~0.4 s, ~0.9 s; room for load
    assert "Fine now." in run.stdout
    assert "Tokens: 900 sent, 5 received." in run.stdout.splitlines()
    assert "Cost:" not in run.stdout


def test_a_bad_key_is_printed_but_exits_0(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("aider")
    lab.server.fail("bad_key", times=5)
    run = lab.run("Say something.", worktree, extra=["greet.py"])

    assert run.exit_code == 0
    assert len(lab.server.turns) == 1
    assert "litellm.AuthenticationError: AuthenticationError: OpenAIException" in run.stdout
    assert "Tokens:" not in run.stdout


def test_hangs_on_a_server_that_never_answers(make_lab: MakeLab, worktree: Path) -> None:
    lab = make_lab("aider")
    lab.server.fail("stall", times=5)
    run = lab.run("Say something.", worktree, extra=["greet.py"], stalled_for_s=3)

    assert run.timed_out and run.exit_code is None
    assert len(lab.server.turns) == 1
    assert "Tokens:" not in run.stdout


def test_restores_the_chat_history_it_left_in_the_worktree(
    make_lab: MakeLab, worktree: Path
) -> None:
    lab = make_lab("aider", [Turn(text="The word is PAPAYA."), Turn(text="It was PAPAYA.")])
    first = lab.run("Remember a word.", worktree, extra=["greet.py"])
    second = lab.run("Which word?", worktree, extra=["--restore-chat-history", "greet.py"])

    assert (first.exit_code, second.exit_code) == (0, 0)
    history = str(lab.server.turns[1].body["messages"])
    assert "The word is PAPAYA." in history and "Remember a word." in history


async def test_its_preset_worker_reports_and_leaves_none_of_its_scratch(
    make_lab: MakeLab, worktree: Path, tmp_path: Path
) -> None:
    """Aider writes its repository map's cache into the worktree as it works. Driven through
    its preset, the cache is never a FileChanged (the files pane's, the log's) and is gone
    before the commit; the file it was asked for is reported."""
    m = Moves("aider")
    lab = make_lab("aider", m.task(m.write("hello.py", "print('hello')\n"), said="Wrote it."))
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **lab.cli.prepare(home, lab.server),  # its price list, so it fetches nothing
        "PATH": programs_in_netns(lab.netns, tmp_path / "bin", "aider"),
        "HOME": str(home),
        "OPENAI_API_BASE": f"{lab.server.url}/v1",
        "AIDER_MODEL": "openai/gpt-4o",
    }
    task = Task(id="t1", title="Say hello", prompt="Write hello.py.", files=("greet.py",))
    job = WorkerJob(
        run_id="r1", task=task, attempt=1, worktree=worktree, env=env, agent_dir=tmp_path / "a"
    )
    reported: list[tuple[str, str]] = []
    everything: list[tuple[str, str]] = []  # what a watcher without the scratch filter sees
    done = asyncio.Event()

    def changed(path: str, change: str) -> None:
        reported.append((path, change))
        if path == "done.txt":
            done.set()

    worker = CodingCliWorker(PRESETS["aider"], DIALECTS["aider"])
    async with (
        watching(worktree, changed),
        watching(worktree, lambda p, c: everything.append((p, c)), scratch=()),
    ):
        result = await worker.run(job, RecordingReporter())
        (worktree / "done.txt").write_text("")  # after all the worker did, in order
        await asyncio.wait_for(done.wait(), 10)

    assert result.summary and (worktree / "hello.py").read_text() == "print('hello')\n"
    assert any(path.startswith(".aider.tags.cache.v") for path, _ in everything)  # it did
    assert sorted({path for path, _ in reported}) == ["done.txt", "hello.py"]
    assert not [name for name in os.listdir(worktree) if name.startswith(".aider")]
