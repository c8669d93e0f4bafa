"""The planner's read-only tools and its reading budget: what each answers, bounds, refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

import maestro_tui.llm.plan_tools as plan_tools
from maestro_tui.domain.planning import PlanningLog
from maestro_tui.llm.plan_budget import ReadingBudget, context_window
from maestro_tui.llm.plan_tools import PlanReader
from tests.llm.conftest import git


@pytest.fixture
def reader(repo: Path) -> tuple[PlanReader, PlanningLog]:
    log = PlanningLog()
    return PlanReader(repo, progress=log), log


async def test_read_a_range_and_be_told_what_is_left(repo: Path) -> None:
    (repo / "long.py").write_text("".join(f"line_{n} = {n}\n" for n in range(1, 1001)))
    log = PlanningLog()
    text = await PlanReader(repo, progress=log).execute("read_file", {"path": "long.py"})
    lines = text.splitlines()
    assert lines[0] == "long.py, lines 1-400 of 1000:"
    assert lines[1] == "  1  line_1 = 1" and lines[400] == "400  line_400 = 400"
    assert lines[-1] == "… 600 more lines: read_file with start_line=401"
    text = await PlanReader(repo, progress=log).execute(
        "read_file", {"path": "./long.py", "start_line": "998", "end_line": 2000}
    )
    assert text.splitlines() == [
        "long.py, lines 998-1000 of 1000:",
        " 998  line_998 = 998",
        " 999  line_999 = 999",
        "1000  line_1000 = 1000",
    ]
    assert log.reads == ["long.py:1-400", "long.py:998-1000"]


async def test_a_read_cut_by_the_result_size_says_the_lines_it_gave(repo: Path) -> None:
    (repo / "wide.txt").write_text("".join("x" * 99 + "\n" for _ in range(100)))
    log = PlanningLog()
    text = await PlanReader(repo, progress=log, max_result_chars=1_000).execute(
        "read_file", {"path": "wide.txt"}
    )
    assert text.splitlines()[0] == "wide.txt, lines 1-9 of 100:"
    assert text.splitlines()[-1] == "… 91 more lines: read_file with start_line=10"
    assert log.reads == ["wide.txt:1-9"]


@pytest.mark.parametrize(
    ("arguments", "answer"),
    [
        ({"path": "pkg"}, "error: 'pkg' is a folder: list_files shows what is in it"),
        ({"path": "pkg/zz.py"}, "error: 'pkg/zz.py' does not exist"),
        ({"path": "pkg/a.py", "start_line": 9}, "error: 'pkg/a.py' has 5 lines; start_line is 9"),
        ({"path": "pkg/a.py", "start_line": 3, "end_line": 2}, "error: end_line 2 is before "),
        ({"path": "pkg/a.py", "start_line": "two"}, "error: 'start_line' must be a line number"),
        ({"path": "pkg/a.py", "start_line": 0}, "error: 'start_line' must be 1 or more"),
        ({"path": ".git/config"}, "error: '.git/config' is inside .git"),
        ({}, "error: missing argument 'path'"),
        ({"path": 3}, "error: 'path' must be a string"),
    ],
)
async def test_read_file_refusals(repo: Path, arguments: dict[str, object], answer: str) -> None:
    log = PlanningLog()
    assert (await PlanReader(repo, progress=log).execute("read_file", arguments)).startswith(answer)
    assert log.reads == []


async def test_binary_and_empty_files(repo: Path) -> None:
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (repo / "empty.py").write_text("")
    log = PlanningLog()
    tools = PlanReader(repo, progress=log)
    assert await tools.execute("read_file", {"path": "logo.png"}) == (
        "error: 'logo.png' is a binary file"
    )
    assert await tools.execute("read_file", {"path": "empty.py"}) == "empty.py is empty."
    assert log.reads == ["empty.py (empty)"]


async def test_list_files_by_folder_and_glob(repo: Path) -> None:
    log = PlanningLog()
    tools = PlanReader(repo, progress=log)
    assert await tools.execute("list_files", {"path": "pkg/"}) == (
        "2 files in pkg:\npkg/a.py (41 B)\npkg/b.py (36 B)"
    )
    assert (await tools.execute("list_files", {"path": "*.md"})).splitlines()[1:] == [
        "README.md (7 B)"
    ]
    assert await tools.execute("list_files", {"path": "nope"}) == (
        "error: no files match 'nope' (list_files with no path lists all)"
    )
    assert log.reads == ["ls pkg (2 files)", "ls *.md (1 files)"]


async def test_too_many_files_are_counted_by_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_tools, "MAX_LISTED", 3)
    for n in range(4):
        (repo / "pkg" / "sub").mkdir(exist_ok=True)
        (repo / "pkg" / "sub" / f"m{n}.py").write_text("")
    text = await PlanReader(repo).execute("list_files", {"path": "pkg"})
    assert text.splitlines() == [
        "6 files in pkg:",
        "pkg/a.py",
        "pkg/b.py",
        "pkg/sub/ (4 files)",
        "(too many to list one by one: list a folder or a narrower glob)",
    ]


async def test_search_code(repo: Path) -> None:
    log = PlanningLog()
    tools = PlanReader(repo, progress=log)
    assert await tools.execute("search_code", {"pattern": "def alpha|class Beta"}) == (
        "2 matching lines in 2 files:\npkg/a.py:4:def alpha():\npkg/b.py:4:class Beta:"
    )
    found = await tools.execute("search_code", {"pattern": "marker_b", "ignore_case": True})
    assert found.endswith("pkg/b.py:1:MARKER_B = 2")
    assert await tools.execute("search_code", {"pattern": "nothing here"}) == (
        "no lines match 'nothing here' in ."
    )
    bad = await tools.execute("search_code", {"pattern": "(unclosed"})
    assert bad.startswith("error: the search failed: ")
    assert log.reads == [
        "grep -E 'def alpha|class Beta' . (2 in 2 files)",
        "grep -i -E 'marker_b' . (1 in 1 files)",
        "grep -E 'nothing here' . (0 in 0 files)",
    ]


async def test_search_is_bounded_and_skips_what_git_ignores(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_tools, "MAX_MATCHES", 3)
    (repo / "many.txt").write_text("hit\n" * 10)
    (repo / "build").mkdir()
    (repo / "build" / "out.txt").write_text("hit\n")
    text = await PlanReader(repo).execute("search_code", {"pattern": "hit"})
    assert text.splitlines() == [
        "3+ matching lines in 1 files:",
        "many.txt:1:hit",
        "many.txt:2:hit",
        "many.txt:3:hit",
        "… more matches left out: narrow the pattern or the path",
    ]


async def test_search_in_a_plain_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)  # no ripgrep: Python's re
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("x = 1\ndef total():\n    pass\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "dep.js").write_text("function total() {}\n")
    text = await PlanReader(tmp_path).execute("search_code", {"pattern": r"def total\("})
    assert text == "1 matching lines in 1 files:\nsrc/m.py:2:def total():"


async def test_an_untracked_file_is_read_and_searched(repo: Path) -> None:
    (repo / "new.py").write_text("NEW = 1\n")
    tools = PlanReader(repo)
    assert (await tools.execute("read_file", {"path": "new.py"})).endswith("1  NEW = 1")
    assert (await tools.execute("search_code", {"pattern": "NEW"})).endswith("new.py:1:NEW = 1")


async def test_unknown_tools_and_bad_arguments(repo: Path) -> None:
    tools = PlanReader(repo)
    assert (await tools.execute("write_file", {"path": "x"})).startswith(
        "error: unknown tool 'write_file'; use list_files, read_file, search_code"
    )
    assert await tools.execute("read_file", "arguments are not valid JSON") == (
        "error: arguments are not valid JSON"
    )


async def test_a_deleted_file_is_not_offered(repo: Path) -> None:
    (repo / "pkg" / "b.py").unlink()
    listed = await PlanReader(repo).execute("list_files", {"path": "pkg"})
    assert listed == "1 files in pkg:\npkg/a.py (41 B)"
    git(repo, "status")  # the repository is intact


def test_the_budget_scales_with_the_context_window() -> None:
    small = ReadingBudget.for_window(8_192)
    assert (small.tokens, small.map_tokens, small.result_chars) == (16_384, 1_000, 4_000)
    large = ReadingBudget.for_window(200_000, turns=5)
    assert (large.turns, large.tokens, large.map_tokens, large.result_chars) == (
        5,
        400_000,
        6_000,
        20_000,
    )
    unknown = ReadingBudget.for_window(None, tokens=10)
    assert (unknown.context, unknown.tokens) == (32_000, 10)
    assert large.spent(4, 1_000, 1_000) == ""
    assert large.spent(5, 1_000, 1_000) == "5 turns of 5"
    assert large.spent(1, 400_000, 1_000) == "400,000 tokens of 400,000"
    assert large.spent(1, 1_000, 130_000) == (
        "the conversation fills 130,000 of the model's 200,000 tokens"
    )


def test_the_context_window_comes_from_litellm() -> None:
    assert context_window("gpt-4o") == 128_000
    assert context_window("openai/my-own-model") is None
    assert context_window("demo/planner") is None
