"""The test runner against a real tiny pytest project, and the summary parser."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from maestro_tui.workspace import parse_test_counts, run_tests

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
# The inner pytest need not load this venv's plugins (Textual snapshots, …): 3x faster start.
ENV = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_tiny.py").write_text(
        "def test_one():\n    assert 1\n\ndef test_two():\n    assert 2\n"
    )
    return tmp_path


async def test_run_tests_pass(project: Path) -> None:
    lines: list[tuple[str, str]] = []
    result = await run_tests(
        PYTEST, project, 60, ENV, on_line=lambda line, s: lines.append((line, s))
    )
    assert result.passed and result.exit_code == 0 and not result.timed_out
    assert (result.n_passed, result.n_failed) == (2, 0)
    assert "2 passed" in result.output_tail
    assert any("2 passed" in line for line, _ in lines)


async def test_run_tests_fail_with_counts(project: Path) -> None:
    (project / "test_bad.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef boom():\n    raise RuntimeError\n\n"
        "def test_bad():\n    assert 0\n\ndef test_err(boom):\n    pass\n"
    )
    command = shlex.join(PYTEST)  # a string command is split, not run by a shell
    result = await run_tests(command, project, 60, ENV)
    assert not result.passed and result.exit_code == 1
    assert (result.n_passed, result.n_failed) == (2, 2)


async def test_run_tests_no_tests_collected_passes(tmp_path: Path) -> None:
    result = await run_tests(PYTEST, tmp_path, 60, ENV)
    assert result.passed and result.exit_code == 5
    assert (result.n_passed, result.n_failed) == (0, 0)


async def test_run_tests_timeout_kills(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(30)"]
    result = await run_tests(argv, tmp_path, 0.5)
    assert result.timed_out and not result.passed and result.exit_code is None
    assert result.duration_s < 10
    assert "timed out after 0.5 s" in result.output_tail


async def test_shell_metacharacters_are_not_interpreted(tmp_path: Path) -> None:
    command = f'{shlex.quote(sys.executable)} -c "print(1)" ; touch pwned && touch pwned2 | cat'
    result = await run_tests(command, tmp_path, 30)
    assert result.passed  # python ran print(1); the rest were only its argv
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


async def test_missing_program(tmp_path: Path) -> None:
    result = await run_tests("no-such-test-runner --all", tmp_path, 30)
    assert not result.passed and result.exit_code is None
    assert "'no-such-test-runner' is not installed or not on PATH" in result.output_tail


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        ("===== 3 passed, 1 failed, 2 errors in 0.12s =====", (3, 3)),
        ("5 passed in 0.01s", (5, 0)),
        ("1 failed in 0.50s", (0, 1)),
        ("1 error in 0.01s", (0, 1)),
        ("2 failed, 4 passed, 1 skipped, 1 xfailed, 3 warnings in 1.23s", (4, 2)),
        ("no tests ran in 0.01s", (0, 0)),
        ("\x1b[32m===== \x1b[32m\x1b[1m7 passed\x1b[0m\x1b[32m in 0.02s\x1b[0m =====", (7, 0)),
        ("test_x.py ..F\n2 passed in 3 minutes? no\n===== 2 passed, 1 failed in 0.1s ====", (2, 1)),
        ("......\n---------\nRan 6 tests in 0.003s\n\nOK", (6, 0)),
        ("Ran 4 tests in 0.01s\n\nFAILED (failures=1, errors=1)", (2, 2)),
        ("Ran 5 tests in 0.01s\n\nOK (skipped=2)", (3, 0)),
        ("Ran 1 test in 0.01s\n", (None, None)),  # interrupted: no verdict
        ("all good", (None, None)),
        ("", (None, None)),
    ],
)
def test_parse_test_counts(output: str, counts: tuple[int | None, int | None]) -> None:
    assert parse_test_counts(output) == counts


async def test_missing_directory(tmp_path: Path) -> None:
    result = await run_tests([sys.executable, "-c", "pass"], tmp_path / "gone", 30)
    assert not result.passed and "cannot start the test command" in result.output_tail
