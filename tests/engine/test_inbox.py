"""The inbox: issue files in a folder become classified, routed tasks and review hints."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.llm.client import Completion, LLMClient, LLMError, ToolCall
from maestro_tui.sources.inbox import (
    Classification,
    InboxError,
    InboxItem,
    classify,
    classify_with_model,
    inbox_plan,
    load_inbox,
    review_hint,
)

GITHUB_EXPORT = [
    {
        "number": 12,
        "title": "Crash when the cart is empty",
        "body": "Traceback: ZeroDivisionError in total()",
        "labels": [{"name": "bug"}, {"name": "security"}],
        "state": "open",
    },
    {"number": 13, "title": "Bump ruff in CI", "body": None, "labels": []},
    {"number": 14, "title": "A pull request", "body": "", "labels": [], "pull_request": {}},
    {"number": 15, "title": "Old", "body": "", "labels": [], "state": "closed"},
]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    (tmp_path / "fix-typo.md").write_text(
        "# Fix typo in the README\nlabels: docs, good first issue\n\nIt says 'teh'.\n"
    )
    (tmp_path / "split_cart.md").write_text(
        "---\ntitle: Split cart.py\nlabels: [refactor]\n---\nThe module does too much.\n"
    )
    (tmp_path / "no-header.md").write_text("Add tests for pricing rounding.\n")
    (tmp_path / "issues.json").write_text(json.dumps(GITHUB_EXPORT))
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".draft.md").write_text("# hidden, ignored")
    return tmp_path


def test_load_inbox_reads_markdown_and_github_json(inbox: Path) -> None:
    items = {i.id: i for i in load_inbox(inbox)}
    assert list(items) == ["fix-typo", "issue-12", "issue-13", "no-header", "split_cart"]
    typo = items["fix-typo"]
    assert typo.title == "Fix typo in the README" and typo.body == "It says 'teh'."
    assert typo.labels == ("docs", "good first issue") and typo.source_path == inbox / "fix-typo.md"
    assert items["split_cart"].title == "Split cart.py"
    assert items["split_cart"].labels == ("refactor",)
    assert items["split_cart"].body == "The module does too much."
    assert items["no-header"].title == "no header"
    assert items["no-header"].body == "Add tests for pricing rounding."
    assert items["issue-12"].labels == ("bug", "security") and items["issue-13"].body == ""


def test_duplicate_ids_get_a_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([{"number": 1, "title": "x"}]))
    (tmp_path / "b.json").write_text(json.dumps({"number": 1, "title": "y", "labels": ["z"]}))
    assert [(i.id, i.labels) for i in load_inbox(tmp_path)] == [
        ("issue-1", ()),
        ("issue-1-2", ("z",)),
    ]


def test_bad_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "shape.json").write_text('"a string"')
    (tmp_path / "items.json").write_text(
        json.dumps([3, {"number": "7", "title": ""}, {"number": 8, "title": "t", "labels": "x"}])
    )
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe# title")
    (tmp_path / "open.md").write_text("---\ntitle: never closed\n")
    with pytest.raises(InboxError) as info:
        load_inbox(tmp_path)
    problems = "\n".join(info.value.problems)
    assert f"{tmp_path / 'bad.json'}: not valid JSON" in problems
    assert f"{tmp_path / 'binary.md'}: not UTF-8 text" in problems
    assert f"{tmp_path / 'items.json'}: issue #1: must be an object, got int" in problems
    assert "issue #2: 'number' must be an integer, got '7'" in problems
    assert "issue #2: missing 'title'" in problems
    assert "issue 8: 'labels' must be names or objects" in problems
    assert f"{tmp_path / 'open.md'}: front matter opened with '---' is never closed" in problems
    assert f"{tmp_path / 'shape.json'}: must be a list of issues, got str" in problems
    with pytest.raises(InboxError, match="not a directory"):
        load_inbox(tmp_path / "missing")


def _item(title: str, body: str = "", labels: Sequence[str] = ()) -> InboxItem:
    return InboxItem("x", title, body, tuple(labels), Path("x.md"))


@pytest.mark.parametrize(
    ("item", "kind", "role", "reason"),
    [
        (_item("Whatever", labels=["type: bug"]), "bug", "coder", "label 'type: bug'"),
        (_item("t", labels=["Documentation"]), "docs", "doc_writer", "label 'Documentation'"),
        (_item("t", labels=["kind/tests", "ci"]), "tests", "tester", "label 'kind/tests'"),
        (_item("t", labels=["dependencies"]), "infra", "coder", "label 'dependencies'"),
        (_item("t", labels=["refactor", "bug"]), "bug", "coder", "label 'bug'"),
        (_item("Fix typo in README"), "docs", "doc_writer", "keywords: typo, readme"),
        (_item("Total is wrong", "It fails for 0"), "bug", "coder", "keywords: wrong, fails"),
        (_item("Flaky test in pricing"), "tests", "tester", "keywords: flaky, test"),
        (_item("Upgrade the Dockerfile base image"), "infra", "coder", "keywords: upgrade"),
        (_item("Clean up duplicated helpers"), "refactor", "refactorer", "keywords: clean up"),
        (_item("Add dark mode", labels=["enhancement"]), "other", "coder", "no telling label"),
    ],
)
def test_classify_rules(item: InboxItem, kind: str, role: str, reason: str) -> None:
    c = classify(item)
    assert (c.kind, c.role) == (kind, role)
    assert c.reason.startswith(reason)


class ScriptedModel(LLMClient):
    """Answers every call with the given tool calls (or raises); records the messages."""

    def __init__(self, calls: list[ToolCall] | Exception) -> None:
        super().__init__("scripted")
        self.calls = calls
        self.seen: list[Any] = []

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] | None = None,
        on_text: Any = None,
        tool_choice: Any = None,
        on_retry: Any = None,
    ) -> Completion:
        self.seen.append((messages, tools, tool_choice))
        if isinstance(self.calls, Exception):
            raise self.calls
        return Completion("", self.calls, 10, 5, None, 0.0, "scripted")


async def test_classify_with_model_uses_the_tool_and_falls_back_per_item(inbox: Path) -> None:
    items = load_inbox(inbox)
    answer = {
        "items": [
            {"id": "issue-13", "kind": "infra", "reason": "CI tooling"},
            {"id": "fix-typo", "kind": "feature", "reason": "not a kind"},  # bad enum
            {"id": "nope", "kind": "bug", "reason": "unknown id"},
            "junk",
        ]
    }
    model = ScriptedModel([ToolCall("c1", "classify", answer)])
    got = await classify_with_model(model, items)
    assert got["issue-13"] == Classification("infra", "coder", "model: CI tooling")
    assert got["fix-typo"] == classify(next(i for i in items if i.id == "fix-typo"))
    assert set(got) == {i.id for i in items}
    messages, tools, choice = model.seen[0]
    assert [t["function"]["name"] for t in tools] == ["classify"]
    assert choice == {"type": "function", "function": {"name": "classify"}}
    assert "id: issue-12" in messages[1]["content"]


@pytest.mark.parametrize(
    "calls",
    [
        LLMError("scripted: down"),
        [],
        [ToolCall("c1", "classify", "arguments are not valid JSON")],
        [ToolCall("c1", "classify", {"items": "all bugs"})],
    ],
)
async def test_classify_with_model_falls_back_to_rules(inbox: Path, calls: Any) -> None:
    items = load_inbox(inbox)
    got = await classify_with_model(ScriptedModel(calls), items)
    assert got == {i.id: classify(i) for i in items}


def test_inbox_plan_routes_each_item(inbox: Path) -> None:
    items = load_inbox(inbox)
    plan = inbox_plan(items, {"issue-13": Classification("infra", "coder", "model: CI")})
    tasks = {t.id: t for t in plan.tasks}
    assert {t: tasks[t].role for t in tasks} == {
        "fix-typo": "doc_writer",
        "issue-12": "coder",
        "issue-13": "coder",
        "no-header": "tester",
        "split_cart": "refactorer",
    }
    assert all(not t.depends_on for t in plan.tasks)
    typo = tasks["fix-typo"]
    assert typo.title == "Fix typo in the README"
    assert typo.prompt.startswith("Fix typo in the README\n\nIt says 'teh'.")
    assert "Classified as docs (label 'docs'), so it goes to the doc_writer." in typo.prompt
    assert "Classified as infra (model: CI)" in tasks["issue-13"].prompt
    assert "(no description)" in tasks["issue-13"].prompt
    by_hand = inbox_plan(items[:1], {"fix-typo": "reviewer"}).tasks[0]
    assert by_hand.role == "reviewer" and "role assigned by hand" in by_hand.prompt


def test_review_hint_weighs_labels_size_and_tests() -> None:
    security_bug = _item("Crash", labels=["bug", "Security"])
    assert review_hint(security_bug, 10, True) == ("labelled 'Security'",)
    assert review_hint(_item("Crash", labels=["bug"]), 10, True) == ()
    assert review_hint(_item("Crash", labels=["bug"]), 151, False) == (
        "tests failed",
        "151 lines changed, more than 150 expected for bug",
    )
    docs = _item("Fix typo in README")
    assert review_hint(docs, 300, True) == ()  # docs may be larger than a bug fix
    assert review_hint(docs, 10, None) == ("no test results: nothing checked the change",)
    assert review_hint(docs, 120, True, kind="infra") == (
        "120 lines changed, more than 100 expected for infra",
    )
