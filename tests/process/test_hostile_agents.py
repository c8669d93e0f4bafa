"""Programs that do what real agents do to their parent: enormous lines, bytes that are not
UTF-8, processes that outlive them (in their own session, or passed their pipe outright), and
long silences. None of it may break, hang or leak a run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from maestro_tui.agents.base import WorkerError, WorkerJob
from maestro_tui.agents.command import CommandWorker
from maestro_tui.config import WorkerSpec
from maestro_tui.domain.plan import Task
from maestro_tui.process import DISPLAY_CHARS, run_streaming
from maestro_tui.process.lines import LineSplitter
from maestro_tui.process.running import EXIT_GRACE_S
from tests.support.recording import RecordingReporter

FIVE_MB = 5 * 1024 * 1024


def python(source: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(source)]


def gone(pid: int) -> bool:
    try:
        zombie: bool = psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        return zombie
    except psutil.NoSuchProcess:
        return True


async def test_a_5_mb_line_arrives_whole_for_parsing_and_short_for_the_log(
    tmp_path: Path,
) -> None:
    lines: list[tuple[int, str]] = []
    result = await run_streaming(
        python(f"print('x' * {FIVE_MB}); print('after')"),
        cwd=tmp_path,
        on_line=lambda line, stream: lines.append((len(line), line[:5])),
    )
    assert result.exit_code == 0
    assert lines == [(FIVE_MB, "xxxxx"), (5, "after")]
    first, last = result.tail.splitlines()
    assert len(first) < DISPLAY_CHARS + 100 and "more characters not shown" in first
    assert last == "after"


async def test_the_command_worker_logs_a_huge_line_shortened(tmp_path: Path) -> None:
    reporter = RecordingReporter()
    spec = WorkerSpec(name="big", argv=tuple(python(f"print('y' * {FIVE_MB}); print('done')")))
    job = WorkerJob(run_id="r", task=Task(id="t", title="t", prompt="p"), attempt=1,
                    worktree=tmp_path)  # fmt: skip
    result = await CommandWorker(spec).run(job, reporter)
    shown = reporter.stdout()
    assert [len(line) < DISPLAY_CHARS + 100 for line in shown] == [True, True]
    assert result.summary.endswith("done")


def test_a_line_past_the_hard_limit_keeps_its_start_and_says_what_was_dropped() -> None:
    splitter = LineSplitter(max_line_bytes=10)
    assert splitter.feed(b"0123456") == []
    assert splitter.feed(b"789abcdef\nnext") == [
        b"0123456789 \xe2\x80\xa6 [6 bytes over the line limit dropped]"
    ]
    assert splitter.pending_bytes == 4
    assert splitter.flush() == b"next"


async def test_bytes_that_are_not_utf8_are_replaced_not_fatal(tmp_path: Path) -> None:
    lines: list[str] = []
    source = r"""
        import sys
        sys.stdout.buffer.write(b'caf\xe9 \xff\xfe {"type": "\xc3"}\r\n')
        sys.stdout.buffer.write(b'half a char at the end \xe2\x82')
    """
    result = await run_streaming(
        python(source), cwd=tmp_path, on_line=lambda line, stream: lines.append(line)
    )
    assert result.exit_code == 0
    assert lines == ['caf\ufffd \ufffd\ufffd {"type": "\ufffd"}', "half a char at the end \ufffd"]


async def test_what_it_left_running_in_its_own_session_is_stopped_and_named(
    tmp_path: Path,
) -> None:
    source = """
        import subprocess, sys
        # A dev server in a session of its own: holds stdout, outlives its parent. (Popen
        # returns once `sleep` is exec'd, so the reaper finds it under that name.)
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        print(child.pid, flush=True)
    """
    pids: list[int] = []
    started = time.monotonic()
    result = await run_streaming(
        python(source), cwd=tmp_path, on_line=lambda line, stream: pids.append(int(line))
    )
    assert time.monotonic() - started < 10
    assert result.exit_code == 0 and not result.timed_out
    assert any("sleep 300" in name for name in result.stopped), result.stopped
    assert gone(pids[0])


@pytest.fixture
def fd_keeper(tmp_path: Path) -> Iterator[Path]:
    """A process that is no descendant of the agent: it takes a file descriptor over a unix
    socket and holds it for two minutes (the worst an agent can do to its pipes)."""
    path = tmp_path / "keeper.sock"
    source = f"""
        import socket, time
        server = socket.socket(socket.AF_UNIX)
        server.bind({str(path)!r})
        server.listen(1)
        print("ready", flush=True)
        conn, _ = server.accept()
        msg, fds, flags, addr = socket.recv_fds(conn, 16, 4)
        time.sleep(120)
    """
    keeper = subprocess.Popen(python(source), stdout=subprocess.PIPE, text=True)
    assert keeper.stdout is not None and keeper.stdout.readline().strip() == "ready"
    try:
        yield path
    finally:
        keeper.kill()
        keeper.wait()


async def test_pipes_held_by_a_process_that_escaped_get_a_short_grace(
    tmp_path: Path, fd_keeper: Path
) -> None:
    source = f"""
        import socket, sys
        s = socket.socket(socket.AF_UNIX)
        s.connect({str(fd_keeper)!r})
        socket.send_fds(s, [b"x"], [1, 2])
        print("handed my stdout over", flush=True)
    """
    lines: list[str] = []
    started = time.monotonic()
    result = await run_streaming(
        python(source), cwd=tmp_path, on_line=lambda line, stream: lines.append(line)
    )
    took = time.monotonic() - started
    assert result.exit_code == 0 and lines == ["handed my stdout over"]
    assert took < EXIT_GRACE_S + 3, f"waited {took:.1f} s on pipes another process holds"


async def test_the_stall_watchdog_stops_a_silent_program(tmp_path: Path) -> None:
    silences: list[float] = []
    source = """
        import subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        print(child.pid, flush=True)
        time.sleep(300)
    """
    pids: list[int] = []
    result = await run_streaming(
        python(source),
        cwd=tmp_path,
        on_line=lambda line, stream: pids.append(int(line)),
        stall_s=1.0,
        on_stall=silences.append,
    )
    assert result.stalled and result.exit_code is None and not result.timed_out
    assert len(silences) == 1 and 1.0 <= silences[0] < 5
    assert gone(pids[0])


async def test_output_keeps_the_watchdog_away(tmp_path: Path) -> None:
    source = """
        import time
        for i in range(6):
            print(i, flush=True)
            time.sleep(0.3)
    """
    result = await run_streaming(python(source), cwd=tmp_path, stall_s=1.0)
    assert result.exit_code == 0 and not result.stalled


async def test_a_stalled_command_worker_fails_and_says_so(tmp_path: Path) -> None:
    reporter = RecordingReporter()
    spec = WorkerSpec(name="mute", argv=tuple(python("import time; time.sleep(300)")))
    job = WorkerJob(run_id="r", task=Task(id="t", title="t", prompt="p"), attempt=1,
                    worktree=tmp_path)  # fmt: skip
    with pytest.raises(WorkerError, match=r"^mute stalled: no output for 1 s; stopped$"):
        await CommandWorker(spec, stall_s=1.0).run(job, reporter)
    assert len(reporter.stalls) == 1


async def test_cancelling_stops_what_left_the_process_group(tmp_path: Path) -> None:
    source = """
        import os, subprocess
        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        print(os.getpid(), child.pid, flush=True)
        os.wait()
    """
    pids: list[int] = []
    printed = asyncio.Event()

    def on_line(line: str, stream: str) -> None:
        pids.extend(int(p) for p in line.split())
        printed.set()

    running = asyncio.create_task(run_streaming(python(source), cwd=tmp_path, on_line=on_line))
    await printed.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert all(gone(pid) for pid in pids)


async def test_an_agent_killed_by_a_signal_exits_128_plus_the_signal(tmp_path: Path) -> None:
    result = await run_streaming(python("import os; os.kill(os.getpid(), 9)"), cwd=tmp_path)
    assert result.exit_code == 128 + 9


async def test_no_file_descriptor_leaks_across_many_runs(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        await run_streaming(python("print('hi')"), cwd=tmp_path)
    assert len(os.listdir("/proc/self/fd")) <= before + 2


def test_the_reaper_runs_on_the_standard_library_alone_and_reports_on_its_pipe() -> None:
    reaper = Path(__file__).parents[2] / "maestro_tui" / "process" / "reaper.py"
    read, write = os.pipe()
    script = "import subprocess; subprocess.Popen(['sleep', '300'], start_new_session=True)"
    argv = [sys.executable, "-I", "-S", str(reaper), str(write), "0.5", "--", sys.executable]
    done = subprocess.run([*argv, "-c", script], capture_output=True, text=True, pass_fds=(write,))
    os.close(write)
    with os.fdopen(read) as report:
        stopped = report.read().splitlines()
    assert done.returncode == 0, done.stderr
    assert len(stopped) == 1 and stopped[0].endswith(" sleep 300")
