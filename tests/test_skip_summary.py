"""The end of every run: the skipped tests, one line per reason (tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skips_by_reason

ROOT = Path(__file__).resolve().parents[1]
TMUX = "tmux is not installed: apt-get install tmux"


def skipped(reason: str, nodeid: str = "tests/test_x.py::test_x") -> pytest.TestReport:
    """A skip as pytest reports it: the reason under "Skipped: ", at the line that skipped."""
    return pytest.TestReport(
        nodeid, ("tests/test_x.py", 3, "test_x"), {}, "skipped",
        ("tests/test_x.py", 4, f"Skipped: {reason}"), "setup",
    )  # fmt: skip


def test_skips_are_counted_by_reason_wherever_they_are_most_first() -> None:
    reports: list[pytest.TestReport | pytest.CollectReport] = [
        skipped("glibc's malloc"),
        skipped(TMUX, "tests/ui/test_a.py::test_one"),
        skipped(TMUX, "tests/ui/test_b.py::test_two"),
        # A module that skipped itself at import: one report for the whole file.
        pytest.CollectReport(
            "tests/test_c.py", "skipped", ("tests/test_c.py", 9, "Skipped: c"), []
        ),
    ]
    assert skips_by_reason(reports) == [(2, TMUX), (1, "c"), (1, "glibc's malloc")]
    assert skips_by_reason([]) == []


@pytest.mark.slow
def test_a_quiet_run_ends_with_its_skips_by_reason(tmp_path: Path) -> None:
    (tmp_path / "test_some.py").write_text(
        "import pytest\n\n"
        f"@pytest.mark.skipif(True, reason={TMUX!r})\ndef test_a(): pass\n\n"
        f"@pytest.mark.skipif(True, reason={TMUX!r})\ndef test_b(): pass\n\n"
        "def test_c(): pytest.skip('not today')\n\n"
        "def test_d(): pass\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    header = next(i for i, line in enumerate(lines) if "skipped, by reason" in line)
    assert lines[header + 1 : header + 3] == [f"   2 {TMUX}", "   1 not today"], run.stdout
    assert "1 passed, 3 skipped" in lines[-1]  # the section comes before pytest's last line
