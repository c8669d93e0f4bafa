"""Test results from runners other than pytest and unittest, and from JUnit XML reports.

Each parser reads the whole output (lines with their ANSI codes already removed) and returns a
`Report`: the pass/fail counts of the newest summary it found (with that summary's line number,
so the caller can let the newest summary of any runner win) and the ids of the failing tests.
Ids must be the same on every run of the same tests, for the subtraction of the failures a base
commit already has: they name a test by its file, package or binary and its name, never by a
duration, a hash or a temporary path. When a test failed only because a subtest failed (node,
go), only the subtest is named; counts stay as the runner gives them.

Recognised: `node --test` (TAP), jest, vitest, `go test` (plain, -v and -json), `cargo test`.
"""

from __future__ import annotations

import bisect
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Report", "newest_report", "output_failing", "read_junit", "wanted"]


@dataclass(frozen=True)
class Report:
    """What one runner's output (or a JUnit report) says about a test run."""

    at: int  # line of the newest summary; -1 when there is none (counts are then None)
    passed: int | None
    failed: int | None  # failures plus errors, and suites or packages that could not run
    failing: frozenset[str]


# --- node --test (TAP) --------------------------------------------------------------------

_TAP_SUBTEST = re.compile(r"^( *)# Subtest: (.*)$")
_TAP_NOT_OK = re.compile(r"^( *)not ok \d+(?: - (.*))?$")
_TAP_COUNT = re.compile(r"^# (\w+)\s+(\d+)\s*$")
_TAP_INDENT = 4


def _tap_name(text: str) -> tuple[str, str]:
    """(name, directive) of a TAP test line's description; `\\#` and `\\\\` unescaped."""
    m = re.match(r"((?:\\.|[^\\#])*)(#.*)?$", text)
    raw, directive = (m.group(1), m.group(2) or "") if m else (text, "")
    return re.sub(r"\\(.)", r"\1", raw.strip()), directive[1:].strip().upper()


def _tap_counts(lines: Sequence[str], at: int) -> tuple[int, int]:
    """(pass, fail + cancelled) from the `# name N` block that starts at `at`."""
    counts: dict[str, int] = {}
    for line in lines[at:]:
        m = _TAP_COUNT.match(line)
        if m is None:
            break
        counts.setdefault(m.group(1), int(m.group(2)))
    return counts.get("pass", 0), counts.get("fail", 0) + counts.get("cancelled", 0)


def parse_tap(lines: Sequence[str]) -> Report:
    """`node --test` (and tape): `# pass N`, `# fail N`; `not ok` lines nest by indentation."""
    stack: list[str] = []  # the names of the open subtests, one per depth
    child_failed: dict[int, bool] = {}  # a `not ok` at this depth since its parent began
    failing: set[str] = set()
    at = -1
    for i, line in enumerate(lines):
        if m := _TAP_SUBTEST.match(line):
            depth = len(m.group(1)) // _TAP_INDENT
            stack[depth:] = [_tap_name(m.group(2))[0]]
            child_failed[depth + 1] = False
        elif m := _TAP_NOT_OK.match(line):
            depth = len(m.group(1)) // _TAP_INDENT
            name, directive = _tap_name(m.group(2) or "")
            if directive.startswith(("TODO", "SKIP")):
                continue
            if not child_failed.get(depth + 1):
                failing.add(" > ".join([*stack[:depth], name]))
            child_failed[depth] = True
        elif (m := _TAP_COUNT.match(line)) and m.group(1) == "pass":
            at = i
    passed, failed = _tap_counts(lines, at) if at >= 0 else (None, None)
    return Report(at, passed, failed, frozenset(failing))


# --- jest ---------------------------------------------------------------------------------

_JEST_FILE = re.compile(r"^\s*(FAIL|PASS)\s+(\S+?)(?:\s+\([\d.]+ m?s\))?\s*$")
_JEST_FAILURE = re.compile(r"^\s*● (.+?)\s*$")
_JEST_TESTS = re.compile(r"^Tests:\s+(.*\btotal)\s*$")
_JEST_BROKEN = "Test suite failed to run"
_COUNT = re.compile(r"(\d+) (passed|failed)\b")


def _passed_failed(text: str) -> tuple[int, int]:
    counts = {"passed": 0, "failed": 0}
    for n, kind in _COUNT.findall(text):
        counts[kind] += int(n)
    return counts["passed"], counts["failed"]


def parse_jest(lines: Sequence[str]) -> Report:
    """`Tests: 1 failed, 3 passed, 4 total`; `● Suite › name` under a `FAIL file` line.

    A suite that failed to run counts as one failed test: jest counts none for it."""
    file: str | None = None  # the file whose failures are being listed
    failing: set[str] = set()
    broken: set[str] = set()  # suites that failed to run, since the last summary
    at, passed, failed = -1, None, None
    for i, line in enumerate(lines):
        if m := _JEST_FILE.match(line):
            file = m.group(2) if m.group(1) == "FAIL" else None
        elif (m := _JEST_FAILURE.match(line)) and file and m.group(1) != "Console":
            failing.add(f"{file} › {m.group(1)}")
            if m.group(1) == _JEST_BROKEN:
                broken.add(file)
        elif m := _JEST_TESTS.match(line):
            at, (passed, failed) = i, _passed_failed(m.group(1))
            failed += len(broken)
            broken.clear()
    return Report(at, passed, failed, frozenset(failing))


# --- vitest -------------------------------------------------------------------------------

_VITEST_FAIL = re.compile(r"^\s*FAIL\s+(.+? > .+|\S.*? \[ .+ \])\s*$")
_VITEST_BROKEN = re.compile(r"^[^>]* \[ .+ \]$")  # a file that failed to load: no test in it
_VITEST_TESTS = re.compile(r"^\s*Tests\s+(\d+ [\w ]+?(?: \| \d+ [\w ]+?)* \(\d+\)|no tests)\s*$")


def parse_vitest(lines: Sequence[str]) -> Report:
    """` Tests  1 failed | 3 passed (4)`; ` FAIL  file > suite > name`.

    A file that failed to load (` FAIL  file [ file ]`) counts as one failed test."""
    failing: set[str] = set()
    broken: set[str] = set()
    at, passed, failed = -1, None, None
    for i, line in enumerate(lines):
        if m := _VITEST_FAIL.match(line):
            failing.add(m.group(1))
            if _VITEST_BROKEN.match(m.group(1)):
                broken.add(m.group(1))
        elif m := _VITEST_TESTS.match(line):
            at, (passed, failed) = i, _passed_failed(m.group(1))
            failed += len(broken)
            broken.clear()
    return Report(at, passed, failed, frozenset(failing))


# --- go test ------------------------------------------------------------------------------

_GO_RESULT = re.compile(r"^\s*--- (PASS|FAIL): (\S+) \(")
_GO_PACKAGE = re.compile(r"^(ok|FAIL|\?)\s*\t(\S+)")


def _leaves(ids: Iterable[str], sep: str) -> frozenset[str]:
    """The ids that no other id extends with `sep` (a test whose subtest failed is left out)."""
    ordered = sorted(set(ids))

    def extended(test_id: str) -> bool:
        at = bisect.bisect_left(ordered, test_id + sep)
        return at < len(ordered) and ordered[at].startswith(test_id + sep)

    return frozenset(i for i in ordered if not extended(i))


@dataclass
class _GoRun:
    """What `go test` said so far, plain or -json."""

    passed: int = 0
    failed: int = 0
    lists_passes: bool = False  # -v or -json: passing tests are named too
    at: int = -1
    failing: set[str] = field(default_factory=set)
    pending: list[str] = field(default_factory=list)  # plain failures awaiting their package
    failed_packages: set[str] = field(default_factory=set)  # with at least one failing test

    def test(self, package: str | None, name: str, ok: bool) -> None:
        if ok:
            self.passed, self.lists_passes = self.passed + 1, True
            return
        self.failed += 1
        if package is None:
            self.pending.append(name)
        else:
            self._fail(package, name)

    def _fail(self, package: str, name: str) -> None:
        self.failing.add(f"{package}::{name}")
        self.failed_packages.add(package)

    def package(self, i: int, package: str, ok: bool) -> None:
        """The end of a package: `ok`/`FAIL` (plain) or its own pass/fail event (-json)."""
        self.at = i
        for name in self.pending:
            self._fail(package, name)
        self.pending.clear()
        if not ok and package not in self.failed_packages:
            self.failing.add(package)  # it failed to build, or failed outside any test
            self.failed += 1
            self.failed_packages.add(package)


def _go_event(line: str) -> dict[str, object] | None:
    if not line.startswith("{") or '"Action"' not in line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _go_line(run: _GoRun, i: int, line: str) -> None:
    if (event := _go_event(line)) is not None:
        action, package, test = (
            event.get("Action"),
            str(event.get("Package", "")),
            event.get("Test"),
        )
        if action in ("pass", "fail") and isinstance(test, str):
            run.test(package, test, action == "pass")
        elif action in ("pass", "fail"):
            run.package(i, package, action == "pass")
    elif m := _GO_RESULT.match(line):
        run.test(None, m.group(2), m.group(1) == "PASS")
    elif m := _GO_PACKAGE.match(line):
        run.package(i, m.group(2), m.group(1) != "FAIL")


def parse_go(lines: Sequence[str]) -> Report:
    """`go test`: `--- FAIL: TestX (0.00s)`, `ok  \\tpkg`, `FAIL\\tpkg`; or -json events.

    Failing ids are `package::TestX/subtest`, or the package when it failed outside any test
    (e.g. did not build). Without -v or -json passing tests are not listed: passed is None."""
    run = _GoRun()
    for i, line in enumerate(lines):
        _go_line(run, i, line)
    failing = _leaves([*run.failing, *run.pending], "/")
    if run.at < 0:
        return Report(-1, None, None, failing)
    return Report(run.at, run.passed if run.lists_passes else None, run.failed, failing)


# --- cargo test ---------------------------------------------------------------------------

_CARGO_BINARY = re.compile(  # `Running tests/api.rs (target/debug/deps/api-0de6da0f84bbd512)`
    r"^\s*Running .*\((?:.*[/\\])?([^/\\)]+?)(?:-[0-9a-f]{16})?(?:\.exe)?\)\s*$"
)
_CARGO_DOCTESTS = re.compile(r"^\s*Doc-tests (\S+)\s*$")
_CARGO_FAILED = re.compile(r"^test (.+) \.\.\. FAILED\s*$")
_CARGO_RESULT = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed;")


def parse_cargo(lines: Sequence[str]) -> Report:
    """`cargo test`: every `test result:` block summed; `test path ... FAILED`.

    Failing ids are `binary::path` (the crate or test target and the test's path in it)."""
    binary = ""
    failing: set[str] = set()
    at, passed, failed = -1, 0, 0
    for i, line in enumerate(lines):
        if m := _CARGO_BINARY.match(line) or _CARGO_DOCTESTS.match(line):
            binary = m.group(1)
        elif m := _CARGO_FAILED.match(line):
            failing.add(f"{binary}::{m.group(1)}" if binary else m.group(1))
        elif m := _CARGO_RESULT.match(line):
            at, passed, failed = i, passed + int(m.group(1)), failed + int(m.group(2))
    if at < 0:
        return Report(-1, None, None, frozenset(failing))
    return Report(at, passed, failed, frozenset(failing))


# --- all of them --------------------------------------------------------------------------

PARSERS: tuple[Callable[[Sequence[str]], Report], ...] = (
    parse_tap,
    parse_jest,
    parse_vitest,
    parse_go,
    parse_cargo,
)

_LINES = (  # every line any parser above reads
    *(_TAP_SUBTEST, _TAP_NOT_OK, _TAP_COUNT, _JEST_FILE, _JEST_FAILURE, _JEST_TESTS),
    *(_VITEST_FAIL, _VITEST_TESTS, _GO_RESULT, _GO_PACKAGE),
    *(_CARGO_BINARY, _CARGO_DOCTESTS, _CARGO_FAILED, _CARGO_RESULT),
)
_WANTED = re.compile("|".join(f"(?:{p.pattern})" for p in _LINES))


def wanted(line: str) -> bool:
    """Whether any parser here may need this line (ANSI codes removed): a run's output can
    be kept down to these lines and still give the same reports."""
    if line.startswith("{") and '"Action":"' in line:  # go test -json: only results count
        return '"Action":"pass"' in line or '"Action":"fail"' in line
    return _WANTED.match(line) is not None


def newest_report(lines: Sequence[str]) -> Report | None:
    """The report of the runner whose summary comes last, or None if no runner's is there."""
    found = [r for r in (parse(lines) for parse in PARSERS) if r.at >= 0]
    return max(found, key=lambda r: r.at, default=None)


def output_failing(lines: Sequence[str]) -> frozenset[str]:
    """The failing test ids every runner here names in the output."""
    return frozenset().union(*(parse(lines).failing for parse in PARSERS))


# --- JUnit XML ----------------------------------------------------------------------------


def _junit_id(case: ET.Element, clean: Callable[[str], str]) -> str:
    classname, name = clean(case.get("classname", "")), clean(case.get("name", ""))
    return f"{classname}::{name}" if classname and classname != name else name or classname


def _failed_case(case: ET.Element) -> bool:
    return case.find("failure") is not None or case.find("error") is not None


def _suite_counts(suite: ET.Element) -> tuple[int, int]:
    """(passed, failed) of one <testsuite> (or <testsuites>): from its attributes, or from
    its <testcase> elements when it has no `tests` attribute."""
    if suite.get("tests") is None:
        cases = list(suite.iter("testcase"))
        failed = sum(map(_failed_case, cases))
        skipped = sum(case.find("skipped") is not None for case in cases)
        return len(cases) - failed - skipped, failed

    def number(key: str) -> int:
        try:
            return int(float(suite.get(key, "0")))
        except ValueError:
            return 0

    failed = number("failures") + number("errors")
    return max(number("tests") - failed - number("skipped"), 0), failed


def read_junit(path: Path, clean: Callable[[str], str] = str.strip) -> Report | None:
    """Counts summed over the innermost <testsuite> elements (or the <testsuites> root when
    it has none); failures and errors count as failed, skipped tests not at all. Failing ids
    are `classname::name` (or `name`), passed through `clean`. None if the file is unreadable
    or not a JUnit report."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    if root.tag not in ("testsuites", "testsuite"):
        return None
    suites = [s for s in root.iter("testsuite") if s.find(".//testsuite") is None] or [root]
    totals = [_suite_counts(s) for s in suites]
    failing = {_junit_id(case, clean) for case in root.iter("testcase") if _failed_case(case)}
    passed, failed = sum(p for p, _ in totals), sum(f for _, f in totals)
    return Report(0, passed, failed, frozenset(failing))
