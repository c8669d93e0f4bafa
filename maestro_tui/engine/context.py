"""Context hygiene: what a task is told beyond its own prompt and files, and nothing more;
and the packing of files and errors for one model call within a token budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.domain.plan import Task
from maestro_tui.domain.state import RunState

STANDARDS_LIMIT = 4000
SUMMARY_LIMIT = 400
FINDINGS_LIMIT = 8


def upstream_of(task_id: str, state: RunState) -> list[str]:
    """Every task this one depends on, directly or not, nearest first."""
    seen: list[str] = []
    frontier = list(state.tasks[task_id].depends_on) if task_id in state.tasks else []
    while frontier:
        nxt: list[str] = []
        for dep in frontier:
            if dep not in seen and dep in state.tasks:
                seen.append(dep)
                nxt.extend(state.tasks[dep].depends_on)
        frontier = nxt
    return seen


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def relevant_findings(task: Task, state: RunState, limit: int = FINDINGS_LIMIT) -> list[str]:
    """Findings other tasks published, most relevant first: from upstream tasks, then those
    that name one of this task's files, then the newest. Bounded in count."""
    upstream = set(upstream_of(task.id, state))
    names = {f for f in task.files} | {f.rsplit("/", 1)[-1] for f in task.files}
    ranked = []
    for order, (source, text) in enumerate(state.findings):
        if source == task.id:
            continue
        mentions = any(name and name in text for name in names)
        ranked.append(((source not in upstream, not mentions, -order), source, text))
    ranked.sort()
    return [f"{source}: {_clip(text, 300)}" for _key, source, text in ranked[:limit]]


def task_context(task: Task, state: RunState, repo_root: Path, standards_file: str | None) -> str:
    """Coding standards, short summaries of upstream tasks, then the most relevant findings."""
    parts: list[str] = []
    if standards_file:
        path = repo_root / standards_file
        try:
            parts.append("## Coding standards\n" + _clip(path.read_text("utf-8"), STANDARDS_LIMIT))
        except OSError:
            pass
    upstream = upstream_of(task.id, state)
    if upstream:
        lines = []
        for dep in upstream:
            view = state.tasks[dep]
            summary = _clip(view.summary or "(no summary)", SUMMARY_LIMIT)
            lines.append(f"- {dep} ({view.title}): {summary}")
        parts.append("## Work already merged that this task builds on\n" + "\n".join(lines))
    findings = relevant_findings(task, state)
    if findings:
        parts.append("## Findings from other agents\n" + "\n".join(f"- {f}" for f in findings))
    return "\n\n".join(parts)


# --- packing files and errors under a token budget (the MCP server's stages and consults) ----

CHARS_PER_TOKEN = 4  # the same rough rate the model client estimates unreported usage with
ERROR_LIMIT = 6000  # characters of one error kept: its tail, where a traceback ends
FILE_GLIMPSE = 400  # characters kept back for each later file, so each is seen at least in part
_PATH_IN_TEXT = re.compile(r"[\w./-]+\.\w+")


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


@dataclass(frozen=True)
class PackedContext:
    """Context packed for one model call: the text, and what went in whole, cut or not at all."""

    text: str
    tokens: int  # estimated, at CHARS_PER_TOKEN
    budget_tokens: int
    files: tuple[str, ...]  # included whole
    clipped: tuple[str, ...]  # included, cut to fit
    left_out: tuple[str, ...]  # "path: why", for files (and the repo map) that did not go in


def rank_files(files: Sequence[str], errors: Sequence[str]) -> list[str]:
    """Most relevant first: files the errors name (most often named first), then the rest in
    the order given. Each file once."""
    unique = list(dict.fromkeys(f.strip() for f in files if f.strip()))
    named: dict[str, int] = {}
    for error in errors:
        for token in _PATH_IN_TEXT.findall(error):
            for f in unique:
                if token == f or token.endswith("/" + f) or f.endswith("/" + token):
                    named[f] = named.get(f, 0) + 1
    return sorted(unique, key=lambda f: (-named.get(f, 0), unique.index(f)))


def _read_inside(root: Path, name: str, limit: int) -> tuple[str, int]:
    """A repository file's text, at most `limit` bytes of it, and its size in bytes;
    ValueError saying why it cannot be packed."""
    from maestro_tui.llm.tools import ToolRefused, resolve_inside

    try:
        path = resolve_inside(root, name)
    except ToolRefused as exc:
        raise ValueError(str(exc)) from None
    if not path.is_file():
        raise ValueError("no such file")
    with path.open("rb") as file:  # never more than could be packed: the rest would be cut
        data = file.read(limit)
        size = file.seek(0, 2)
    if b"\0" in data[:8192]:
        raise ValueError("binary")
    return data.decode("utf-8", "replace"), size


def _cut(text: str, limit: int, keep_tail: bool = False, whole: str = "") -> str:
    """`text` in at most `limit` characters, saying where it was cut ("" if none fit).
    `whole` says how long the original was, when `text` is already only its start."""
    if len(text) <= limit and not whole:
        return text
    if limit < 48 + len(whole):
        return ""
    if keep_tail:
        return "… (cut)\n" + text[-(limit - 8) :]
    head = text[: limit - 40 - len(whole)]
    head = head[: head.rfind("\n") + 1] or head
    rest = whole or f"{text.count(chr(10), len(head)) + 1} more lines"
    return head + f"… (cut: {rest})\n"


def pack_context(
    root: Path,
    files: Sequence[str],
    *,
    budget_tokens: int,
    errors: Sequence[str] = (),
    heading: str = "",
    run_context: str = "",
    repo_map_text: str = "",
) -> PackedContext:
    """Pack, most relevant first and within `budget_tokens`: the heading, the errors (their
    tails), the run's context (standards, earlier work, findings: what `task_context` gives a
    worker), the files (those the errors name first), then as much of the repository map as
    fits.

    A file that does not fit whole is cut, keeping room for a glimpse of each later one; what
    does not fit at all, or cannot be read (outside the repository, missing, binary), is
    listed in `left_out` with the reason.
    """
    packing = _Packing(budget_tokens)
    packing.add(_cut(heading.strip(), packing.room))
    if errors:
        body = "\n\n".join(_cut(e.strip(), ERROR_LIMIT, keep_tail=True) for e in errors)
        packing.add(_cut("## Errors\n" + body, packing.room, keep_tail=True))
    packing.add(_cut(run_context.strip(), packing.room))
    texts: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for name in rank_files(files, errors):
        try:
            texts[name], sizes[name] = _read_inside(root, name, budget_tokens * CHARS_PER_TOKEN)
        except (ValueError, OSError) as exc:
            packing.left_out.append(f"{name}: {exc}")
    packing.add_files(texts, sizes)
    if repo_map_text:
        packing.add_map(repo_map_text)
    return packing.packed()


class _Packing:
    """A context being packed: its parts so far, the room left (in characters), and what
    went in whole, cut, or not at all."""

    def __init__(self, budget_tokens: int) -> None:
        self.budget_tokens = budget_tokens
        self.room = budget_tokens * CHARS_PER_TOKEN
        self.parts: list[str] = []
        self.whole: list[str] = []
        self.clipped: list[str] = []
        self.left_out: list[str] = []

    def add(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.room -= len(text) + 2  # and the blank line that joins it

    def add_files(self, texts: dict[str, str], sizes: dict[str, int]) -> None:
        """The files read (in their order), each whole if it fits, else cut to leave a
        glimpse of each later one, else left out."""
        readable = list(texts)
        for i, name in enumerate(readable):
            share = self.room - (len(readable) - i - 1) * FILE_GLIMPSE
            body = texts[name] if texts[name].endswith("\n") else texts[name] + "\n"
            block = f"## {name}\n```\n{body}```"
            read_all = sizes[name] == len(texts[name].encode("utf-8", "replace"))
            if read_all and len(block) <= share:
                self.add(block)
                self.whole.append(name)
                continue
            head = f"## {name} (cut to fit)\n```\n"
            length = "" if read_all else f"{sizes[name]} bytes in all"
            kept = _cut(body, share - len(head) - 5, whole=length)
            if kept:
                self.add(f"{head}{kept}```")
                self.clipped.append(name)
            else:
                self.left_out.append(f"{name}: no room left in {self.budget_tokens} tokens")

    def add_map(self, repo_map_text: str) -> None:
        """As much of the repository map as the room left holds."""
        head = "## Repository map\n"
        kept = _cut(repo_map_text, self.room - len(head))
        if kept:
            self.add(head + kept)
            if kept != repo_map_text:
                self.clipped.append("repository map")
        else:
            self.left_out.append(f"repository map: no room left in {self.budget_tokens} tokens")

    def packed(self) -> PackedContext:
        text = "\n\n".join(self.parts)
        return PackedContext(
            text,
            estimate_tokens(text),
            self.budget_tokens,
            tuple(self.whole),
            tuple(self.clipped),
            tuple(self.left_out),
        )
