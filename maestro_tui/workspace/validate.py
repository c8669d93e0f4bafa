"""Validate a task's result by running the project's own test command in its worktree."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.process import LineSink, ProgramNotFound, Sandbox, run_streaming

__all__ = ["TestResult", "failing_tests", "parse_test_counts", "run_tests"]

PYTEST_NO_TESTS = 5  # pytest's exit code for "no tests collected"
MAX_TAIL_CHARS = 8000

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


def parse_test_counts(output: str) -> tuple[int | None, int | None]:
    """(passed, failed) from a pytest or unittest summary; errors count as failed."""
    lines = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if _PYTEST_SUMMARY.search(line) and re.search(r"\bin [\d.]+s\b", line):
            counts = {"passed": 0, "failed": 0}
            for n, kind in _PYTEST_COUNT.findall(line):
                counts["passed" if kind == "passed" else "failed"] += int(n)
            return counts["passed"], counts["failed"]
        ran = _UNITTEST_RAN.match(line)
        if ran:
            end = next((m for m in map(_UNITTEST_END.match, lines[i + 1 :]) if m), None)
            if end is None:
                return None, None
            details = dict(
                (k.strip(), int(v)) for k, v in re.findall(r"(\w+)=(\d+)", end.group(2) or "")
            )
            failed = details.get("failures", 0) + details.get("errors", 0)
            not_run = details.get("skipped", 0) + details.get("expected failures", 0)
            return max(int(ran.group(1)) - failed - not_run, 0), failed
    return None, None


def failing_tests(output: str) -> frozenset[str]:
    """The ids of the tests a pytest or unittest run reports as failed (empty if none named)."""
    found = set()
    for line in output.splitlines():
        m = _FAILED_ID.match(_ANSI.sub("", line).strip())
        if m:
            found.add(m.group(1) or m.group(2))
    return frozenset(found)


async def run_tests(
    command: str | Sequence[str],
    cwd: Path,
    timeout_s: float | None,
    env: Mapping[str, str] | None = None,
    on_line: LineSink | None = None,
    sandbox: Sandbox | None = None,
) -> TestResult:
    """Run the test command (split like a shell would, but never run by one) in `cwd`."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        return TestResult(False, None, None, None, 0.0, "no test command configured", False)
    try:
        proc = await run_streaming(
            argv, cwd=cwd, env=env, timeout_s=timeout_s, on_line=on_line, sandbox=sandbox
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
    n_passed, n_failed = parse_test_counts(proc.tail)
    passed = proc.exit_code == 0 or (
        proc.exit_code == PYTEST_NO_TESTS and "no tests ran" in proc.tail
    )
    if passed and n_passed is None:
        n_passed, n_failed = (0, 0) if proc.exit_code == PYTEST_NO_TESTS else (None, None)
    return TestResult(passed, proc.exit_code, n_passed, n_failed, proc.duration_s, tail, False)
