"""The command worker against real subprocesses: argv substitution, no shell, env, timeouts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest

from maestro_tui.agents.base import Worker, WorkerError, WorkerJob
from maestro_tui.agents.command import CommandWorker, WorkerConfigError, build_prompt, summarize
from maestro_tui.config import ConfigError, WorkerSpec
from maestro_tui.config.presets import EVERY_SCRATCH, PRESETS, is_scratch, scratch_of
from maestro_tui.watch import watching
from tests.support.recording import RecordingReporter

ECHO_ARGS = """
import json, sys
print(json.dumps(sys.argv[1:]))
"""

ECHO_ENV = """
import json, os
print(json.dumps(dict(os.environ)))
"""


def pwned_files(*dirs: Path) -> list[str]:
    return [p.name for d in dirs for p in d.iterdir() if p.name.startswith("pwned")]


async def argv_seen(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    template: list[str],
    **job_fields: Any,
) -> list[str]:
    spec = WorkerSpec(name="echo", argv=(*script(ECHO_ARGS), *template))
    await CommandWorker(spec).run(make_job(**job_fields), reporter)
    argv: list[str] = json.loads(reporter.stdout()[-1])
    return argv


async def test_placeholders_are_substituted_inside_each_argument(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    worktree: Path,
) -> None:
    template = ["{prompt}", "--id={task_id}", "{title}", "{worktree}", "{run_id}#{attempt}"]
    template += ["{files}", "all: {files}", "{{literal}}"]
    seen = await argv_seen(script, make_job, reporter, template, files=("a.py", "b c.py"))
    assert seen == [
        "Write hello.py",
        "--id=t1",
        "Add a greeting",
        str(worktree),
        "run-7#2",
        "a.py",
        "b c.py",
        "all: a.py b c.py",
        "{literal}",
    ]


async def test_a_lone_files_placeholder_vanishes_when_the_task_has_no_files(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
) -> None:
    assert await argv_seen(script, make_job, reporter, ["x", "{files}", "y"]) == ["x", "y"]


async def test_shell_metacharacters_arrive_verbatim_and_run_nothing(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    worktree: Path,
    tmp_path: Path,
) -> None:
    (worktree / "x").write_text("keep me")
    nasty_title = "; rm -rf x"
    nasty_prompt = "$(touch pwned) `touch pwned2` | touch pwned3 && touch pwned4; rm -rf x"
    seen = await argv_seen(
        script, make_job, reporter, ["{title}", "{prompt}"], title=nasty_title, prompt=nasty_prompt
    )
    assert seen == [nasty_title, nasty_prompt]
    assert (worktree / "x").read_text() == "keep me"
    assert pwned_files(worktree, tmp_path) == []


def test_the_prompt_carries_context_and_feedback_under_headings(
    make_job: Callable[..., WorkerJob],
) -> None:
    assert build_prompt(make_job()) == "Write hello.py"
    prompt = build_prompt(make_job(context="Use tabs.", feedback="test_hello failed"))
    assert prompt == (
        "Write hello.py\n\n## Context\n\nUse tabs.\n\n"
        "## Feedback on the previous attempt\n\ntest_hello failed"
    )


async def test_the_environment_is_explicit(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAESTRO_TEST_SECRET", "do-not-leak")
    monkeypatch.setenv("MAESTRO_TEST_PASSED", "passed-through")
    spec = WorkerSpec(
        name="env",
        argv=tuple(script(ECHO_ENV)),
        env={"FROM_SPEC": "1"},
        pass_env=("MAESTRO_TEST_PASSED", "MAESTRO_TEST_UNSET"),
    )
    await CommandWorker(spec).run(make_job(env={"FROM_JOB": "2"}), reporter)
    env = json.loads(reporter.stdout()[-1])
    assert "MAESTRO_TEST_SECRET" not in env
    assert "MAESTRO_TEST_UNSET" not in env
    assert env["MAESTRO_TEST_PASSED"] == "passed-through"
    assert (env["FROM_SPEC"], env["FROM_JOB"]) == ("1", "2")


async def test_output_streams_to_the_reporter_in_order_and_ends_in_the_summary(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
) -> None:
    argv = script("""
        import sys
        for n in range(40):
            print(f"line {n}", flush=True)
            if n % 10 == 0:
                print(f"note {n}", file=sys.stderr, flush=True)
        print("", flush=True)
    """)
    spec = WorkerSpec(name="talker", argv=tuple(argv), model="m-1")
    result = await CommandWorker(spec).run(make_job(), reporter)
    assert reporter.stdout() == [f"line {n}" for n in range(40)] + [""]
    assert [t for t, s in reporter.outputs if s == "stderr"] == [
        f"note {n}" for n in range(0, 40, 10)
    ]
    assert result.summary.endswith("line 38\nline 39")
    assert (result.agent, result.model) == ("command:talker", "m-1")


def test_the_summary_is_bounded_and_has_a_fallback() -> None:
    lines = [f"{n:03d} " + "x" * 60 for n in range(100)]
    summary = summarize(lines, "w")
    assert len(summary) <= 1000 and summary.endswith(lines[-1])
    assert summarize(["", "  "], "claude") == "claude finished"
    assert summarize(["y" * 5000], "w") == "…" + "y" * 999


async def test_a_quiet_command_summarizes_as_finished(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
) -> None:
    spec = WorkerSpec(name="quiet", argv=tuple(script("pass")))
    result = await CommandWorker(spec).run(make_job(), reporter)
    assert result.summary == "quiet finished"


async def test_a_non_zero_exit_reports_the_code_and_the_last_lines(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
) -> None:
    argv = script("""
        import sys
        print("working")
        print("boom: no such module", file=sys.stderr)
        sys.exit(3)
    """)
    with pytest.raises(WorkerError) as caught:
        await CommandWorker(WorkerSpec(name="crash", argv=tuple(argv))).run(make_job(), reporter)
    message = str(caught.value)
    assert message.startswith("crash exited with code 3")
    assert "boom: no such module" in message


async def test_a_timeout_kills_the_whole_process_group(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    worktree: Path,
) -> None:
    argv = script("""
        import pathlib, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        pathlib.Path("grandchild.pid").write_text(str(child.pid))
        print("ready", flush=True)
        time.sleep(120)
    """)
    worker = CommandWorker(WorkerSpec(name="hang", argv=tuple(argv)))
    with pytest.raises(WorkerError, match=r"^hang timed out after 2 s$"):
        await worker.run(make_job(timeout_s=2), reporter)
    assert reporter.stdout() == ["ready"]
    pid = int((worktree / "grandchild.pid").read_text())
    assert not psutil.pid_exists(pid)  # stopped and reaped by the reaper, not left to init


async def test_cancelling_the_run_kills_the_process(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ready = asyncio.Event()
    pids: list[int] = []

    def output(text: str, stream: str = "stdout") -> None:
        pids.append(int(text))
        ready.set()

    monkeypatch.setattr(reporter, "output", output)
    argv = script("import os, time; print(os.getpid(), flush=True); time.sleep(120)")
    running = asyncio.create_task(
        CommandWorker(WorkerSpec(name="c", argv=tuple(argv))).run(make_job(), reporter)
    )
    await ready.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert not psutil.pid_exists(pids[0])


async def test_the_worker_timeout_is_used_before_the_run_wide_one(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
) -> None:
    argv = script("import time; time.sleep(120)")
    worker = CommandWorker(WorkerSpec(name="slow", argv=tuple(argv), timeout_s=0.5))
    with pytest.raises(WorkerError, match="slow timed out after 0.5 s"):
        await worker.run(make_job(timeout_s=600), reporter)


@pytest.mark.parametrize(
    ("preset", "how"),
    [
        ("claude", "install Claude Code (npm install -g @anthropic-ai/claude-code)"),
        ("codex", "install the Codex CLI (npm install -g @openai/codex)"),
        ("aider", "install Aider (python -m pip install aider-install && aider-install)"),
        ("gemini", "install Gemini CLI (npm install -g @google/gemini-cli)"),
    ],
)
async def test_a_missing_program_says_how_to_install_it(
    preset: str,
    how: str,
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(WorkerError) as caught:
        await CommandWorker(PRESETS[preset]).run(make_job(), reporter)
    assert str(caught.value) == (
        f"'{preset}' is not installed or not on PATH: {how}"
        f" or change [workers.{preset}] argv in maestro.toml"
    )


async def test_an_unknown_program_gets_a_generic_hint(
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WorkerError, match="'my-agent' is not installed or not on PATH: install"):
        await CommandWorker(WorkerSpec(name="mine", argv=("my-agent",))).run(make_job(), reporter)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("x", "{prompt}", "{task}"), "[workers.w] argv: unknown placeholder {task} in '{task}'"),
        (("x", "{prompt!r}"), "unknown placeholder {prompt}"),
        (("x", "{prompt:>10}"), "unknown placeholder {prompt}"),
        (("x", "{prompt"), "[workers.w] argv: bad braces in '{prompt'"),
        (("{prompt}",), "the program, '{prompt}', cannot be a placeholder"),
        ((), "[workers.w] argv is empty"),
    ],
)
def test_a_bad_template_is_refused_when_the_worker_is_built(
    argv: tuple[str, ...], message: str
) -> None:
    with pytest.raises(WorkerConfigError) as caught:
        CommandWorker(WorkerSpec(name="w", argv=argv))
    assert message in str(caught.value)
    assert isinstance(caught.value, WorkerError) and isinstance(caught.value, ConfigError)


def test_every_preset_template_is_valid_and_the_worker_is_a_worker() -> None:
    for name, spec in PRESETS.items():
        if spec.kind == "command":
            worker = CommandWorker(spec)
            assert isinstance(worker, Worker) and worker.name == name


LEAVES_SCRATCH = """
import pathlib
cache = pathlib.Path(".aider.tags.cache.v4")
cache.mkdir()
(cache / "cache.db").write_bytes(b"tags")
pathlib.Path(".aider.input.history").write_text("kept by the project\\n")
pathlib.Path("hello.py").write_text("print('hello')\\n")
"""


def track(worktree: Path, name: str) -> None:
    """`name`, empty, kept in git by the project of a new repository at `worktree`."""
    subprocess.run(["git", "init", "-q"], cwd=worktree, check=True)
    (worktree / name).write_text("")
    subprocess.run(["git", "add", name], cwd=worktree, check=True)


async def test_a_workers_scratch_is_neither_reported_nor_left_for_the_commit(
    script: Callable[[str], list[str]],
    make_job: Callable[..., WorkerJob],
    reporter: RecordingReporter,
    worktree: Path,
) -> None:
    """One declaration, two uses: the watcher leaves the preset's scratch out, and the worker
    removes it once its program ends, but for what the project keeps in git."""
    track(worktree, ".aider.input.history")
    spec = replace(PRESETS["aider"], argv=tuple(script(LEAVES_SCRATCH)), parser="")
    changes: list[tuple[str, str]] = []
    done = asyncio.Event()

    def changed(path: str, change: str) -> None:
        changes.append((path, change))
        if path == "done.txt":
            done.set()

    async with watching(worktree, changed):
        await CommandWorker(spec).run(make_job(), reporter)
        (worktree / "done.txt").write_text("")  # after all the worker did, in order
        await asyncio.wait_for(done.wait(), 10)
    assert sorted(os.listdir(worktree)) == [".aider.input.history", ".git", "done.txt", "hello.py"]
    assert (worktree / ".aider.input.history").read_text() == "kept by the project\n"
    assert sorted(set(changes)) == [("done.txt", "added"), ("hello.py", "added")]


def test_a_custom_worker_reading_a_clis_output_has_that_clis_scratch() -> None:
    custom = WorkerSpec(name="my-aider", argv=("aider", "{prompt}"), parser="aider")
    assert scratch_of(custom) == PRESETS["aider"].scratch
    assert scratch_of(WorkerSpec(name="plain", argv=("x",))) == ()
    assert is_scratch(".aider.tags.cache.v4/cache.db", EVERY_SCRATCH)
    assert not is_scratch("src/.aider.tags.cache.v4/cache.db", EVERY_SCRATCH)
    assert not any(is_scratch(p, EVERY_SCRATCH) for p in (".aiderignore", ".aider.conf.yml"))
