"""Test results from runners other than pytest, and from JUnit XML reports.

`node --test`, `cargo test`, `go test` and pytest's --junitxml run for real here (each test
skips when its tool is absent). The files in reports/ are real outputs captured once with:

- jest.txt, jest-broken.txt, jest-junit.xml: jest 30.5.2 and jest-junit 17.0.0 on Node
  v20.20.2, `npx jest --ci --reporters=default --reporters=jest-junit` (jest-broken.txt: a
  test file that requires a missing module, beside a passing one).
- vitest.txt, vitest-broken.txt, vitest-junit.xml: vitest 4.1.12, `npx vitest run` (vitest.txt
  with its colours as it printed them to a pipe; vitest-broken.txt with NO_COLOR=1 and a file
  that imports a missing module) and `--reporter=junit`.
- go.txt, go-json.txt, go-v.txt: go 1.19.8 (Debian's golang-go), `go test -count=1 ./...`,
  the same with -json, and `go test -count=1 -v ./calc ./strs`, on a module with a package
  that does not build.
- cargo.txt: cargo 1.95.0, `RUST_BACKTRACE=0 cargo test --no-fail-fast` on a library crate
  `demo` with unit tests (one in a nested module), an integration test `tests/api.rs`, a doc
  test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maestro_tui.workspace.test_reports import newest_report, read_junit, wanted
from maestro_tui.workspace.validate import failing_tests, parse_test_counts, run_tests

REPORTS = Path(__file__).with_name("reports")
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
ENV = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}

# The same demo go module in every go capture: its ids must not depend on the output mode.
GO_IDS = frozenset({"example.com/demo/calc::TestSub/big_one", "example.com/demo/broken"})


def fixture(name: str) -> str:
    return (REPORTS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "counts", "ids"),
    [
        (
            "jest.txt",
            (4, 2),
            {
                "jt/math.test.js › strings › nested › fails here",
                "jt/other.test.js › top level fails",
            },
        ),
        ("jest-broken.txt", (1, 1), {"jbad/broken.test.js › Test suite failed to run"}),
        (
            "vitest.txt",
            (4, 2),
            {"math.test.js > strings > nested > fails here", "other.test.js > top level fails"},
        ),
        ("vitest-broken.txt", (1, 1), {"broken.test.js [ broken.test.js ]"}),
        ("go.txt", (None, 3), GO_IDS),  # plain `go test` names no passing test
        ("go-json.txt", (4, 3), GO_IDS),  # 2 failed tests (a subtest and its parent) + 1 build
        ("go-v.txt", (4, 2), {"example.com/demo/calc::TestSub/big_one"}),
        (
            "cargo.txt",
            (3, 3),  # three `test result:` blocks: lib, tests/api.rs, doc tests
            {"demo::tests::breaks", "demo::tests::inner::deep_fail", "api::api_bad"},
        ),
    ],
)
def test_captured_outputs(name: str, counts: tuple[int | None, int], ids: set[str]) -> None:
    output = fixture(name)
    assert parse_test_counts(output) == counts
    assert failing_tests(output) == ids
    # run_tests keeps only the lines a parser wants, from all of the output: same answer
    kept = "\n".join(line for line in output.splitlines() if wanted(_plain(line)))
    assert parse_test_counts(kept) == counts and failing_tests(kept) == ids


def _plain(line: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", line)


def test_the_newest_summary_wins_across_runners() -> None:
    pytest_run = "F.\nFAILED t.py::test_x - assert 0\n1 failed, 1 passed in 0.01s"
    jest_run = fixture("jest.txt")
    assert parse_test_counts(pytest_run + "\n" + jest_run) == (4, 2)
    assert parse_test_counts(jest_run + "\n" + pytest_run) == (1, 1)
    both = failing_tests(jest_run + "\n" + pytest_run)
    assert "t.py::test_x" in both and "jt/other.test.js › top level fails" in both
    assert parse_test_counts("Ran 1 test in 0.01s\n") == (None, None)  # as before
    assert parse_test_counts("5 passed in 0.1s\nTests passed!") == (5, 0)  # prose is no summary
    assert parse_test_counts("ok all tests passed\n# passes 3") == (None, None)


def test_tap_escapes_directives_and_cancelled_tests() -> None:
    # As node 20 prints them: a `#` in a name is escaped, a timed-out test is "cancelled"
    output = "\n".join(
        [
            "TAP version 13",
            "# Subtest: x \\# y \\\\ z",
            "not ok 1 - x \\# y \\\\ z",
            "# Subtest: later",
            "not ok 2 - later # TODO",
            "# Subtest: slow",
            "not ok 3 - slow",
            "  error: 'test timed out after 50ms'",
            "1..3",
            "# tests 3",
            "# pass 0",
            "# fail 1",
            "# cancelled 1",
            "# todo 1",
            "# duration_ms 61.5",
        ]
    )
    assert parse_test_counts(output) == (0, 2)
    assert failing_tests(output) == {"x # y \\ z", "slow"}


NODE_PASSING = """const test = require('node:test');
test('adds', () => {});
"""
NODE_FAILING = """const test = require('node:test');
const assert = require('node:assert');
test('outer', async (t) => {
  await t.test('inner passes', () => {});
  await t.test('inner fails', () => { assert.strictEqual(1, 2); });
});
"""


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed: apt-get install nodejs"
)
def test_node_test_runner_for_real(tmp_path: Path) -> None:
    (tmp_path / "a.test.js").write_text(NODE_PASSING)
    (tmp_path / "b.test.js").write_text(NODE_FAILING)
    run = subprocess.run(
        ["node", "--test"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1, run.stdout + run.stderr
    # node counts the parent of a failing subtest as failed too; only the subtest is named
    assert parse_test_counts(run.stdout) == (2, 2)
    assert failing_tests(run.stdout) == {"outer > inner fails"}


@pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed: apt-get install nodejs"
)
async def test_run_tests_names_a_node_file_that_did_not_load_by_its_relative_path(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.test.js").write_text(NODE_PASSING)
    (tmp_path / "bad.test.js").write_text("this is not javascript(\n")
    result = await run_tests(["node", "--test"], tmp_path, 60)
    assert not result.passed and (result.n_passed, result.n_failed) == (1, 1)
    assert result.failing == {"bad.test.js"}  # node says /tmp/…/bad.test.js


async def test_run_tests_counts_from_all_of_the_output_not_only_its_tail(tmp_path: Path) -> None:
    # 500 passing go tests before the captured run: far more lines than the tail keeps
    event = '{"Action":"pass","Package":"example.com/many","Test":"Test%d","Elapsed":0}'
    script = tmp_path / "emit.py"
    many = "\n".join(event % n for n in range(500))
    script.write_text(f"import sys\nprint({many!r})\nprint(open(sys.argv[1]).read())\n")
    command = [sys.executable, str(script), str(REPORTS / "go-json.txt")]
    result = await run_tests(command, tmp_path, 60)
    assert (result.n_passed, result.n_failed) == (504, 3)
    assert result.failing == GO_IDS


CRATE_LIB = """pub fn add(a: i32, b: i32) -> i32 { a + b }

#[cfg(test)]
mod tests {
    #[test]
    fn adds() { assert_eq!(super::add(1, 1), 2); }
    #[test]
    fn breaks() { assert_eq!(super::add(1, 1), 3); }
}
"""


@pytest.mark.skipif(
    shutil.which("cargo") is None, reason="cargo is not installed: apt-get install cargo"
)
async def test_cargo_test_for_real(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "Cargo.toml").write_text(
        '[package]\nname = "demo"\nversion = "0.1.0"\nedition = "2021"\n'
    )
    (tmp_path / "src" / "lib.rs").write_text(CRATE_LIB)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "api.rs").write_text("#[test]\nfn api_bad() { assert!(false); }\n")
    env = {**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target"), "RUST_BACKTRACE": "0"}
    command = ["cargo", "test", "--offline", "--no-fail-fast", "--lib", "--tests"]
    result = await run_tests(command, tmp_path, 300, env)
    assert not result.passed and (result.n_passed, result.n_failed) == (1, 2)
    assert result.failing == {"demo::tests::breaks", "api::api_bad"}


@pytest.mark.skipif(
    shutil.which("go") is None, reason="go is not installed: apt-get install golang-go"
)
async def test_go_test_json_for_real(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/live\n\ngo 1.19\n")
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "calc_test.go").write_text(
        'package calc\n\nimport "testing"\n\nfunc TestOk(t *testing.T) {}\n\n'
        "func TestSub(t *testing.T) {\n"
        '\tt.Run("fine", func(t *testing.T) {})\n'
        '\tt.Run("bad", func(t *testing.T) { t.Error("no") })\n}\n'
    )
    result = await run_tests(["go", "test", "-count=1", "-json", "./..."], tmp_path, 300)
    assert not result.passed and (result.n_passed, result.n_failed) == (2, 2)
    assert result.failing == {"example.com/live/calc::TestSub/bad"}


# --- JUnit XML ----------------------------------------------------------------------------


def test_read_junit_from_jest_and_vitest() -> None:
    jest = read_junit(REPORTS / "jest-junit.xml")
    assert jest is not None and (jest.passed, jest.failed) == (4, 2)
    # jest-junit's default classname is the name: said once
    assert jest.failing == {"strings nested fails here", "top level fails"}
    vitest = read_junit(REPORTS / "vitest-junit.xml")
    assert vitest is not None and (vitest.passed, vitest.failed) == (4, 2)
    assert vitest.failing == {
        "math.test.js::strings > nested > fails here",
        "other.test.js::top level fails",
    }


def test_read_junit_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    (tmp_path / "half.xml").write_text("<testsuites><testsuite tests='3'")
    (tmp_path / "other.xml").write_text("<html><body>3 passed</body></html>")
    assert read_junit(tmp_path / "half.xml") is None
    assert read_junit(tmp_path / "other.xml") is None
    assert read_junit(tmp_path / "missing.xml") is None


def test_read_junit_without_totals_counts_the_test_cases(tmp_path: Path) -> None:
    (tmp_path / "r.xml").write_text(
        '<testsuite name="s"><testcase classname="C" name="a"/>'
        '<testcase classname="C" name="b"><error message="x"/></testcase>'
        '<testcase name="c"><skipped/></testcase></testsuite>'
    )
    report = read_junit(tmp_path / "r.xml")
    assert report is not None and (report.passed, report.failed) == (1, 1)
    assert report.failing == {"C::b"}
    assert newest_report([]) is None


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_mixed.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef boom():\n    raise RuntimeError\n\n"
        "def test_ok():\n    pass\n\ndef test_wrong():\n    assert 0\n\n"
        "def test_err(boom):\n    pass\n\n@pytest.mark.skip\ndef test_later():\n    pass\n"
    )
    return tmp_path


async def test_run_tests_reads_the_junit_report_the_run_wrote(project: Path) -> None:
    command = [*PYTEST, "--junitxml=out/report.xml"]
    result = await run_tests(command, project, 60, ENV, report_file="out/report.xml")
    assert not result.passed and (result.n_passed, result.n_failed) == (1, 2)
    # The report's ids (the output would say test_mixed.py::test_wrong)
    assert result.failing == {"test_mixed::test_wrong", "test_mixed::test_err"}
    plain = await run_tests(command, project, 60, ENV)
    assert plain.failing == {"test_mixed.py::test_wrong", "test_mixed.py::test_err"}


async def test_a_report_from_before_the_run_is_not_trusted(project: Path) -> None:
    stale = project / "report.xml"
    stale.write_text('<testsuite tests="9" failures="0"><testcase name="old"/></testsuite>')
    result = await run_tests(PYTEST, project, 60, ENV, report_file="report.xml")
    assert (result.n_passed, result.n_failed) == (1, 2)  # from the output
    assert not stale.exists()


async def test_a_report_copied_with_an_old_time_is_not_trusted(project: Path) -> None:
    # The command puts an old report in place, keeping its time (as `cp -p` would)
    old = time.time() - 3600
    code = (
        "import os, sys, subprocess\n"
        "open('report.xml', 'w').write('<testsuite tests=\"9\" failures=\"0\"/>')\n"
        f"os.utime('report.xml', ({old}, {old}))\n"
        "sys.exit(subprocess.call(sys.argv[1:]))\n"
    )
    command = [sys.executable, "-c", code, *PYTEST]
    result = await run_tests(command, project, 60, ENV, report_file="report.xml")
    assert (project / "report.xml").exists()
    assert (result.n_passed, result.n_failed) == (1, 2)  # from the output, not the 9


async def test_a_report_outside_the_directory_is_left_alone(project: Path) -> None:
    outside = project.parent / f"{project.name}-outside.xml"
    outside.write_text('<testsuite tests="9" failures="0"/>')
    try:
        result = await run_tests(PYTEST, project, 60, ENV, report_file=f"../{outside.name}")
        assert outside.exists()  # neither deleted nor read
        assert (result.n_passed, result.n_failed) == (1, 2)
    finally:
        outside.unlink()
