"""Inbox: a folder of issue files becomes work, one task per issue, routed to a specialist.

Files read from the folder (others, and hidden ones, are ignored):

- ``*.md``: one issue. Leading header lines: ``# Title`` and ``labels: a, b`` (any order);
  or a front-matter block between ``---`` lines with ``title:`` and ``labels:`` (``[a, b]``
  or ``a, b``). Everything after the header is the body. Without a title line the file name
  is the title. The task id is the file's stem, made branch-safe.
- ``*.json``: a GitHub issues export (``gh issue list --json number,title,body,labels``, or
  the REST API's list): objects with ``number``, ``title``, ``body`` and ``labels`` (names,
  or objects with ``name``). Pull requests and closed issues are skipped. Ids: ``issue-N``.

Classification (`classify`), deterministic: the labels decide first; without a telling
label, keywords score the text (title words count twice); ties, and several telling labels,
go by the precedence bug > tests > docs > infra > refactor; no signal at all is kind
"other", which a coder takes. `classify_with_model` asks a model instead, through one tool
call, and falls back to these rules for any item it answers badly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from maestro_tui.domain.plan import Plan, Task, validate_plan
from maestro_tui.llm.client import LLMClient, LLMError
from maestro_tui.sources.paths import path_slug, unique_id

KIND_ROLES = {
    "bug": "coder",
    "tests": "tester",
    "docs": "doc_writer",
    "infra": "coder",
    "refactor": "refactorer",
}
KINDS = tuple(KIND_ROLES)  # also the precedence order
OTHER = "other"
_LABELS = {
    "bug": {"bug", "bugfix", "fix", "defect", "regression", "crash", "error"},
    "tests": {"test", "tests", "testing", "coverage", "flaky", "flaky-test"},
    "docs": {"docs", "doc", "documentation", "readme", "docstrings"},
    "infra": {
        *("infra", "infrastructure", "ci", "build", "deps", "dependencies", "packaging"),
        *("devops", "release", "docker", "github-actions", "tooling"),
    },
    "refactor": {"refactor", "refactoring", "cleanup", "tech-debt", "code-quality", "chore"},
}
_KEYWORDS = {
    "bug": r"bugs?|fix(es|ed)?|crash(es|ed)?|errors?|exceptions?|traceback|broken|fail(s|ed|ing)?"
    r"|wrong|incorrect|regression|doesn't work|does not work",
    "tests": r"tests?|testing|coverage|flaky|pytest|unit tests?",
    "docs": r"docs|documentation|docstrings?|readme|typos?|tutorial|guide|examples?",
    "infra": r"ci|pipeline|github actions|docker(file)?|build|dependency|dependencies|upgrade"
    r"|bump|packaging|release|deploy(ment)?|makefile|pre-commit",
    "refactor": r"refactor(ing)?|clean ?up|rename|simplify|extract|split|restructure"
    r"|deduplicate|duplicated?|dead code|tech debt|type hints",
}
_PATTERNS = {k: re.compile(rf"\b(?:{p})\b", re.IGNORECASE) for k, p in _KEYWORDS.items()}
HOLD_LABELS = frozenset(
    {"needs-review", "needs review", "security", "breaking", "breaking-change", "do-not-merge"}
)
# Lines changed above which a result of each kind waits for the human: a bug fix or an infra
# change that large is not the small fix the issue asked for.
DIFF_LIMITS = {"bug": 150, "infra": 100, "tests": 400, "docs": 300, "refactor": 500, OTHER: 200}
MAX_BODY_FOR_MODEL = 1500


class InboxError(ValueError):
    """An inbox that cannot be read; each problem names the file."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class InboxItem:
    """One issue to work on."""

    id: str
    title: str
    body: str
    labels: tuple[str, ...]
    source_path: Path


@dataclass(frozen=True)
class Classification:
    """What kind of work an item is, the role that takes it, and why."""

    kind: str  # one of KINDS, or OTHER
    role: str
    reason: str


# --- reading ---------------------------------------------------------------------------------


def load_inbox(directory: Path) -> list[InboxItem]:
    """Every issue in `directory`'s .md and .json files, in file order; InboxError otherwise."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InboxError(f"inbox {directory}: not a directory")
    items: list[InboxItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in (".md", ".json"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix.lower() == ".md":
                found = [_markdown_item(path, text)]
            else:
                found = _json_items(path, text)
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
            continue
        except InboxError as exc:
            problems.extend(exc.problems)
            continue
        for item in found:
            items.append(replace(item, id=unique_id(item.id, seen)))
    if problems:
        raise InboxError(problems)
    return items


def _split_labels(text: str) -> tuple[str, ...]:
    text = text.strip().removeprefix("[").removesuffix("]")
    return tuple(x.strip().strip("'\"") for x in text.split(",") if x.strip().strip("'\""))


def _markdown_item(path: Path, text: str) -> InboxItem:
    lines = text.splitlines()
    title, start = "", 0
    labels: tuple[str, ...] = ()
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise InboxError(f"{path}: front matter opened with '---' is never closed")
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "title":
                title = value.strip().strip("'\"")
            elif key.strip().lower() == "labels":
                labels = _split_labels(value)
        start = end + 1
    for i in range(start, len(lines)):
        line = lines[i].strip()
        if not line:
            start = i + 1
        elif line.startswith("# ") and not title:
            title, start = line[2:].strip(), i + 1
        elif line.lower().startswith("labels:"):
            labels, start = _split_labels(line.partition(":")[2]), i + 1
        else:
            break
    body = "\n".join(lines[start:]).strip()
    title = title or path.stem.replace("-", " ").replace("_", " ")
    if not body and not title:
        raise InboxError(f"{path}: empty issue")
    return InboxItem(path_slug(path.stem), title, body, labels, path)


def _json_items(path: Path, text: str) -> list[InboxItem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InboxError(f"{path}: not valid JSON: {exc}") from exc
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise InboxError(f"{path}: must be a list of issues, got {type(data).__name__}")
    items, problems = [], []
    for n, raw in enumerate(data, start=1):
        where = f"{path}: issue #{n}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: must be an object, got {type(raw).__name__}")
            continue
        if "pull_request" in raw or str(raw.get("state", "open")).lower() == "closed":
            continue
        before = len(problems)
        number, title = raw.get("number"), raw.get("title")
        if isinstance(number, int) and not isinstance(number, bool):
            where = f"{path}: issue {number}"
        else:
            problems.append(f"{where}: 'number' must be an integer, got {number!r}")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{where}: missing 'title'")
        raw_labels = raw.get("labels") or []
        names = [x.get("name") if isinstance(x, Mapping) else x for x in raw_labels]
        labels = tuple(x for x in names if isinstance(x, str))
        if not isinstance(raw_labels, list) or len(labels) != len(names):
            problems.append(f"{where}: 'labels' must be names or objects with a 'name'")
        body = raw.get("body") or ""
        if not isinstance(body, str):
            problems.append(f"{where}: 'body' must be a string")
        if len(problems) == before:
            items.append(InboxItem(f"issue-{number}", str(title), body, labels, path))
    if problems:
        raise InboxError(problems)
    return items


# --- classifying -----------------------------------------------------------------------------


def _label_kind(label: str) -> str | None:
    name = re.sub(r"^(type|kind|area)\s*[:/]\s*", "", label.strip().lower())
    name = name.replace(" ", "-")
    return next((k for k in KINDS if name in _LABELS[k] or name.rstrip("s") in _LABELS[k]), None)


def classify(item: InboxItem) -> Classification:
    """The kind of work and role for `item`, by the deterministic rules in the module doc."""
    by_label = {k: label for label in item.labels if (k := _label_kind(label))}
    if by_label:
        kind = next(k for k in KINDS if k in by_label)
        return Classification(kind, KIND_ROLES[kind], f"label '{by_label[kind]}'")
    scores: dict[str, int] = {}
    words: dict[str, list[str]] = {}
    for kind, pattern in _PATTERNS.items():
        title_hits = pattern.findall(item.title)
        body_hits = pattern.findall(item.body)
        scores[kind] = 2 * len(title_hits) + len(body_hits)
        words[kind] = [m.group(0).lower() for m in pattern.finditer(f"{item.title}\n{item.body}")]
    best = max(KINDS, key=lambda k: (scores[k], -KINDS.index(k)))
    if not scores[best]:
        return Classification(OTHER, "coder", "no telling label or keyword: a coder takes it")
    found = ", ".join(dict.fromkeys(words[best]))
    return Classification(best, KIND_ROLES[best], f"keywords: {found}")


CLASSIFY_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "classify",
        "description": "Classify every issue by the kind of work it needs.",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "kind": {"type": "string", "enum": list(KINDS)},
                            "reason": {"type": "string", "description": "one short sentence"},
                        },
                        "required": ["id", "kind", "reason"],
                    },
                }
            },
            "required": ["items"],
        },
    },
}
_CLASSIFY_PROMPT = (
    "Classify each issue below for a team of coding agents: bug (a defect to fix), tests "
    "(tests to add or repair), docs (documentation), infra (CI, build, dependencies, "
    "packaging) or refactor (restructure without changing behaviour). Answer by calling the "
    "tool classify once, with every issue's id."
)


async def classify_with_model(
    client: LLMClient, items: Sequence[InboxItem]
) -> dict[str, Classification]:
    """Each item's classification by the model in one `classify` call; the rules decide any
    item the model fails on (bad call, unknown id or kind), and all of them if the call fails."""
    fallback = {item.id: classify(item) for item in items}
    if not items:
        return fallback
    issues = "\n\n".join(
        f"id: {i.id}\ntitle: {i.title}\nlabels: {', '.join(i.labels) or '-'}\n"
        f"{i.body[:MAX_BODY_FOR_MODEL]}"
        for i in items
    )
    messages = [
        {"role": "system", "content": _CLASSIFY_PROMPT},
        {"role": "user", "content": issues},
    ]
    forced = {"type": "function", "function": {"name": "classify"}}
    try:
        completion = await client.complete(messages, tools=[CLASSIFY_TOOL], tool_choice=forced)
    except LLMError:
        return fallback
    out = dict(fallback)
    for call in (c for c in completion.tool_calls if c.name == "classify"):
        answers = call.arguments.get("items") if isinstance(call.arguments, dict) else None
        for answer in answers if isinstance(answers, list) else ():
            if not isinstance(answer, Mapping):
                continue
            item_id, kind, reason = answer.get("id"), answer.get("kind"), answer.get("reason")
            if item_id in fallback and kind in KIND_ROLES:
                why = reason.strip() if isinstance(reason, str) and reason.strip() else kind
                out[str(item_id)] = Classification(
                    str(kind), KIND_ROLES[str(kind)], f"model: {why}"
                )
    return out


# --- planning and review ---------------------------------------------------------------------


def inbox_plan(
    items: Sequence[InboxItem], roles: Mapping[str, Classification | str] | None = None
) -> Plan:
    """One task per item (id, title and role from it); `roles` by item id, else `classify`."""
    tasks = []
    for item in items:
        given = (roles or {}).get(item.id)
        c = given if isinstance(given, Classification) else classify(item)
        if isinstance(given, str):
            c = Classification(c.kind, given, "role assigned by hand")
        labels = f"\nLabels: {', '.join(item.labels)}" if item.labels else ""
        prompt = (
            f"{item.title}\n\n{item.body or '(no description)'}\n\n"
            f"From the inbox file {item.source_path.name}.{labels}\n"
            f"Classified as {c.kind} ({c.reason}), so it goes to the {c.role}."
        )
        tasks.append(Task(id=item.id, title=item.title, prompt=prompt, role=c.role))
    plan = Plan(goal=f"Work through the inbox: {len(tasks)} issue(s)", tasks=tuple(tasks))
    return validate_plan(plan)


def review_hint(
    item: InboxItem, lines_changed: int, tests_passed: bool | None, kind: str | None = None
) -> tuple[str, ...]:
    """Reasons to hold this item's result for the human; empty when it may merge on its own."""
    reasons = [f"labelled '{x}'" for x in item.labels if x.strip().lower() in HOLD_LABELS]
    if tests_passed is False:
        reasons.append("tests failed")
    elif tests_passed is None:
        reasons.append("no test results: nothing checked the change")
    kind = kind or classify(item).kind
    limit = DIFF_LIMITS.get(kind, DIFF_LIMITS[OTHER])
    if lines_changed > limit:
        reasons.append(f"{lines_changed} lines changed, more than {limit} expected for {kind}")
    return tuple(reasons)
