"""Validate a task's result by running the project's own test command in its worktree.

Counts and failing tests come from the newest summary in the output: pytest's and unittest's
are read here, other runners' (node, jest, vitest, go, cargo) in test_reports.py; or from a
JUnit XML report that the command wrote, when the caller names it.
"""

from __future__ import annotations

import re
import shlex
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.process import LineSink, ProgramNotFound, Sandbox, run_streaming, shorten
from maestro_tui.workspace.test_reports import (
    newest_report,
    output_failing,
    read_junit,
    wanted,
)

__all__ = ["TestResult", "failing_tests", "parse_test_counts", "run_tests"]

PYTEST_NO_TESTS = 5  # pytest's exit code for "no tests collected"
MAX_TAIL_CHARS = 8000
KEPT_LINES = 50_000  # of the lines a summary parser may need, from the whole output
# How far a report's modification time may lag the clock and still be this run's: the kernel
# stamps files from a coarse clock. A report from before the run is deleted first anyway.
REPORT_CLOCK_SLACK_S = 1.0

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|errors?)\b")
_PYTEST_SUMMARY = re.compile(
    r"\b(\d+ (passed|failed|errors?|skipped|xfailed|xpassed)|no tests ran)\b"
)
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ")
_UNITTEST_END = re.compile(r"^(OK|FAILED)\b(?: \((.*)\))?")
# pytest's short summary ("FAILED tests/x.py::test_y - why") and unittest's "FAIL: test_y (…)"
_FAILED_ID = re.compile(r"^(?:FAILED|ERROR) (\S+::\S+)|^(?:FAIL|ERROR): (\S+ \(\S+\))")


@dataclass(frozen=True)
class TestResult:
    """The outcome of one run of the test command."""

    __test__ = False  # not a pytest test class

    passed: bool
    exit_code: int | None  # None when killed on timeout or never started
    n_passed: int | None
    n_failed: int | None  # failures plus errors
    duration_s: float
    output_tail: str
    timed_out: bool
    # The ids of the failing tests, from the JUnit report when there was one, else the output
    failing: frozenset[str] = frozenset()


def _plain_lines(output: str) -> list[str]:
    return [_ANSI.sub("", line) for line in output.splitlines()]


def _python_summary(plain: Sequence[str]) -> tuple[int, int | None, int | None] | None:
    """(line, passed, failed) of the newest pytest or unittest summary, if any."""
    lines = [line.strip() for line in plain]
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _PYTEST_SUMMARY.search(line) and re.search(r"\bin [\d.]+s\b", line):
            counts = {"passed": 0, "failed": 0}
            for n, kind in _PYTEST_COUNT.findall(line):
                counts["passed" if kind == "passed" else "failed"] += int(n)
            return i, counts["passed"], counts["failed"]
        ran = _UNITTEST_RAN.match(line)
        if ran:
            end = next((m for m in map(_UNITTEST_END.match, lines[i + 1 :]) if m), None)
            if end is None:
                return i, None, None
            details = dict(
                (k.strip(), int(v)) for k, v in re.findall(r"(\w+)=(\d+)", end.group(2) or "")
            )
            failed = details.get("failures", 0) + details.get("errors", 0)
            not_run = details.get("skipped", 0) + details.get("expected failures", 0)
            return i, max(int(ran.group(1)) - failed - not_run, 0), failed
    return None


def parse_test_counts(output: str) -> tuple[int | None, int | None]:
    """(passed, failed) from the newest test summary in the output; errors count as failed.

    pytest, unittest, `node --test`, jest, vitest, `go test` and `cargo test` are recognised.
    Plain `go test` names no passing test: passed is None there (use -v or -json)."""
    lines = _plain_lines(output)
    python = _python_summary(lines)
    other = newest_report(lines)
    # On the same line the other runner's reading wins: cargo's `test result: ok. 1 passed;
    # 0 failed; … finished in 0.01s` would pass for pytest's summary too.
    if other is not None and (python is None or other.at >= python[0]):
        return other.passed, other.failed
    return (python[1], python[2]) if python else (None, None)


def failing_tests(output: str) -> frozenset[str]:
    """The ids of the tests the output names as failed (empty if none named), from any of
    the runners `parse_test_counts` recognises."""
    found = set()
    lines = _plain_lines(output)
    for line in lines:
        m = _FAILED_ID.match(line.strip())
        if m:
            found.add(m.group(1) or m.group(2))
    return frozenset(found) | output_failing(lines)


def _wanted(line: str) -> bool:
    """Whether a summary parser may need this line (`line` without its ANSI codes)."""
    stripped = line.strip()
    return bool(
        _PYTEST_SUMMARY.search(stripped)
        or _UNITTEST_RAN.match(stripped)
        or _UNITTEST_END.match(stripped)
        or _FAILED_ID.match(stripped)
        or wanted(line)
    )


class _KeptLines:
    """The lines of a run's output that a summary parser may need, from all of the output:
    the tail holds only the last lines, and go or node name tests all along the way."""

    def __init__(self, on_line: LineSink | None) -> None:
        self.lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._on_line = on_line

    def __call__(self, line: str, stream: str) -> None:
        short = shorten(line)  # as the tail keeps it
        if _wanted(_ANSI.sub("", short)):
            self.lines.append(short)
        if self._on_line is not None:
            self._on_line(line, stream)

    def text(self) -> str:
        return "\n".join(self.lines)


def _report_path(cwd: Path, report_file: str | None) -> Path | None:
    """Where the report is, if `report_file` is given and stays inside `cwd`."""
    if not report_file:
        return None
    path = cwd / report_file
    return path if path.resolve().is_relative_to(cwd.resolve()) else None


def _fresh_report(path: Path, started: float) -> tuple[int, int, frozenset[str]] | None:
    """(passed, failed, failing ids) from the JUnit report at `path` if this run wrote it."""
    try:
        if path.stat().st_mtime < started - REPORT_CLOCK_SLACK_S:
            return None
    except OSError:
        return None
    report = read_junit(path, lambda text: _ANSI.sub("", text).strip())
    if report is None or report.passed is None or report.failed is None:
        return None
    return report.passed, report.failed, report.failing


def _relative(ids: frozenset[str], cwd: Path) -> frozenset[str]:
    """`ids` without the worktree's own path in them (node names a file that did not load by
    its absolute path): the same test must have the same id in every worktree."""
    roots = {f"{cwd}/", f"{cwd.resolve()}/"}
    out = set()
    for test_id in ids:
        for root in roots:
            test_id = test_id.replace(root, "")
        out.add(test_id)
    return frozenset(out)


async def run_tests(
    command: str | Sequence[str],
    cwd: Path,
    timeout_s: float | None,
    env: Mapping[str, str] | None = None,
    on_line: LineSink | None = None,
    sandbox: Sandbox | None = None,
    *,
    report_file: str | None = None,
) -> TestResult:
    """Run the test command (split like a shell would, but never run by one) in `cwd`.

    `report_file`: a JUnit XML report the command writes, relative to `cwd` (a path that
    leads outside `cwd` is ignored). When the run wrote it, counts and failing tests come
    from it, else from the output; one left by an earlier run is deleted first."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        return TestResult(False, None, None, None, 0.0, "no test command configured", False)
    report = _report_path(cwd, report_file)
    if report is not None:
        try:
            report.unlink(missing_ok=True)
        except OSError:
            pass  # then only its modification time can tell a stale one
    started = time.time()
    kept = _KeptLines(on_line)
    try:
        proc = await run_streaming(
            argv, cwd=cwd, env=env, timeout_s=timeout_s, on_line=kept, sandbox=sandbox
        )
    except ProgramNotFound:
        message = (
            f"test command not found: {argv[0]!r} is not installed or not on PATH; "
            "install it or fix the test command in the configuration"
        )
        return TestResult(False, None, None, None, 0.0, message, False)
    except OSError as exc:  # e.g. the worktree is gone
        message = f"cannot start the test command in {cwd}: {exc}"
        return TestResult(False, None, None, None, 0.0, message, False)
    tail = proc.tail[-MAX_TAIL_CHARS:]
    if proc.timed_out:
        tail += f"\n[maestro] tests timed out after {timeout_s:g} s and were killed"
        return TestResult(False, None, None, None, proc.duration_s, tail, True)
    n_passed, n_failed = parse_test_counts(kept.text())
    failing = failing_tests(kept.text())
    from_report = _fresh_report(report, started) if report is not None else None
    if from_report is not None:
        n_passed, n_failed, failing = from_report
    passed = proc.exit_code == 0 or (
        proc.exit_code == PYTEST_NO_TESTS and "no tests ran" in proc.tail
    )
    if passed and n_passed is None and n_failed is None:
        n_passed, n_failed = (0, 0) if proc.exit_code == PYTEST_NO_TESTS else (None, None)
    failing = _relative(failing, cwd)
    return TestResult(
        passed, proc.exit_code, n_passed, n_failed, proc.duration_s, tail, False, failing
    )
