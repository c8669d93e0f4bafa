"""Merging task commits into the integration branch without touching any working tree."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.workspace import plumbing
from maestro_tui.workspace.repo import Workspace, WorkspaceError

__all__ = [
    "ConflictFile",
    "ConflictHunk",
    "MergeCheck",
    "MergeRaced",
    "MergeSource",
    "MergedSources",
    "SourceConflicts",
    "check_merge",
    "check_out_merge",
    "merge_into",
    "merge_sources",
    "rebuild",
    "resolve_text",
]

CHOICES = ("ours", "theirs", "base", "both")
_OPEN = re.compile(r"(<{7,})(?: |\r?\n|$)")


@dataclass(frozen=True)
class ConflictHunk:
    """One conflicted region: the text of each side, as diff3 markers show it."""

    ours: str
    base: str
    theirs: str
    start_line: int  # 1-based line of the `<<<<<<<` marker


@dataclass(frozen=True)
class ConflictFile:
    """A conflicted file: its hunks and its whole text with diff3 markers.

    Conflicts with no markers (modify/delete, binary) have no hunks; `note` says what happened.
    """

    path: str
    hunks: tuple[ConflictHunk, ...]
    text: str
    note: str = ""


@dataclass(frozen=True)
class MergeCheck:
    clean: bool
    tree: str | None  # the merged tree when clean
    conflicts: tuple[ConflictFile, ...]

    @property
    def conflicted_paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.conflicts)


class MergeRaced(WorkspaceError):
    """The branch moved while we merged into it: nothing was changed, merge again."""


@dataclass(frozen=True)
class MergeSource:
    """One result for `merge_sources`: a commit, and how to settle its conflicts if it has any."""

    commit: str
    side: str | None = None  # "ours" or "theirs": every conflicting hunk is resolved so
    files: Mapping[str, str | None] | None = None  # path -> resolved text (None: delete)
    resolved_on: str | None = None  # the commit `files` were decided against


@dataclass(frozen=True)
class MergedSources:
    commit: str  # parents: the commit merged onto, then every source; on no branch yet
    tree: str


class SourceConflicts(WorkspaceError):
    """Source number `index` conflicts in `paths` and its resolution does not settle them
    (`stale`: the files were resolved against a version of the branch that has changed)."""

    def __init__(self, index: int, paths: tuple[str, ...], stale: bool = False) -> None:
        self.index, self.paths, self.stale = index, paths, stale
        why = "changed since they were resolved" if stale else "conflict"
        super().__init__(f"{', '.join(paths)} {why}: resolve them again")


def _segments(text: str) -> list[str | ConflictHunk]:
    """Split marker text into plain text and hunks (markers of one length pair up)."""
    lines = text.splitlines(keepends=True)
    out: list[str | ConflictHunk] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            plain.append(lines[i])
            i += 1
            continue
        size = len(m.group(1))
        sides: dict[str, list[str]] = {"ours": [], "base": [], "theirs": []}
        side, j = "ours", i + 1
        while j < len(lines):
            marker = _marker(lines[j], size)
            if marker == ">":
                break
            if marker == "|" and side == "ours":
                side = "base"
            elif marker == "=" and side in ("ours", "base"):
                side = "theirs"
            else:
                sides[side].append(lines[j])
            j += 1
        if j == len(lines):  # never closed: not a conflict after all
            plain.append(lines[i])
            i += 1
            continue
        if plain:
            out.append("".join(plain))
            plain = []
        ours, base, theirs = ("".join(sides[k]) for k in ("ours", "base", "theirs"))
        out.append(ConflictHunk(ours, base, theirs, i + 1))
        i = j + 1
    if plain:
        out.append("".join(plain))
    return out


def _marker(line: str, size: int) -> str | None:
    for ch in "|=>":
        if line.startswith(ch * size) and (len(line) == size or line[size] in " \r\n"):
            return ch
    return None


def parse_hunks(text: str) -> tuple[ConflictHunk, ...]:
    return tuple(s for s in _segments(text) if isinstance(s, ConflictHunk))


def rebuild(text: str, choose: Callable[[ConflictHunk], str]) -> str:
    """`text` with each conflict (diff3 markers) replaced by what `choose` makes of it."""
    return "".join(seg if isinstance(seg, str) else choose(seg) for seg in _segments(text))


def resolve_text(conflict: ConflictFile, choices: Sequence[str | None]) -> str:
    """Rebuild the file with one choice per hunk: "ours", "theirs", "base" or "both"; None
    keeps that hunk's conflict markers (a preview of a file not fully decided yet)."""
    if len(choices) != len(conflict.hunks):
        raise ValueError(
            f"{conflict.path}: {len(conflict.hunks)} conflict(s) need as many choices, "
            f"got {len(choices)}"
        )
    bad = [c for c in choices if c is not None and c not in CHOICES]
    if bad:
        raise ValueError(f"unknown choice(s) {bad}: use one of {', '.join(CHOICES)}")
    picks = iter(choices)
    parts: list[str] = []
    for seg in _segments(conflict.text):
        if isinstance(seg, str):
            parts.append(seg)
            continue
        choice = next(picks)
        if choice is None:
            parts.append(
                f"<<<<<<< ours\n{seg.ours}||||||| base\n{seg.base}=======\n"
                f"{seg.theirs}>>>>>>> theirs\n"
            )
        else:
            parts.append(seg.ours + seg.theirs if choice == "both" else getattr(seg, choice))
    return "".join(parts)


def check_merge(ws: Workspace, ours: str, theirs: str) -> MergeCheck:
    """Would `theirs` merge cleanly into `ours`? Conflicts come with their diff3 text."""
    merged = plumbing.merge_tree(ws.git, ours, theirs)
    if merged.clean:
        return MergeCheck(True, merged.tree, ())
    return MergeCheck(False, None, _conflict_files(ws, merged))


def _conflict_files(ws: Workspace, merged: plumbing.MergeTreeResult) -> tuple[ConflictFile, ...]:
    files = []
    for path in merged.conflicted:
        note = " ".join(merged.notes.get(path, ()))
        data = plumbing.read_blob(ws.git, merged.tree, path)
        if data is None:
            files.append(ConflictFile(path, (), "", note or "no file at this path after merging"))
        elif b"\0" in data[:8000]:
            files.append(ConflictFile(path, (), "", f"binary file: pick a side. {note}".strip()))
        else:
            text = data.decode("utf-8", "replace")
            files.append(ConflictFile(path, parse_hunks(text), text, note))
    return tuple(files)


def check_out_merge(ws: Workspace, worktree: Path, onto: str, commit: str) -> tuple[str, ...]:
    """Fill a fresh worktree made at `onto` with `commit` merged in, uncommitted; conflicted
    files keep their diff3 markers. Returns the conflicted paths."""
    merged = plumbing.merge_tree(ws.git, onto, commit)
    ws.check_out_tree(worktree, merged.tree)
    return merged.conflicted


def merge_sources(
    ws: Workspace, onto: str, sources: Sequence[MergeSource], message: str
) -> MergedSources:
    """Merge `sources` one after another onto commit `onto`, and make one commit of the result
    whose parents are `onto` and every source (an octopus when there are several).

    No branch moves and no working tree is touched: the gate tests the commit, then moves the
    branch to it. SourceConflicts names the first source whose resolution does not cover its
    conflicts with what is merged before it.
    """
    if not sources:
        raise ValueError("nothing to merge")
    current, tree = onto, ""
    for i, source in enumerate(sources):
        merged = plumbing.merge_tree(ws.git, current, source.commit)
        tree = merged.tree
        if not merged.clean:
            tree = plumbing.tree_with(ws.git, tree, _settle(ws, i, current, source, merged))
        if i < len(sources) - 1:  # merge-tree takes commits: chain throwaway ones
            current = plumbing.commit_tree(ws.git, tree, (current, source.commit), "maestro step")
    parents = (onto, *(s.commit for s in sources))
    return MergedSources(plumbing.commit_tree(ws.git, tree, parents, message), tree)


def _settle(
    ws: Workspace, index: int, onto: str, source: MergeSource, merged: plumbing.MergeTreeResult
) -> Mapping[str, str | None]:
    """The resolved text of each conflicted path, by side or from the resolved files."""
    if source.side is not None:
        files = _conflict_files(ws, merged)
        unresolvable = tuple(f.path for f in files if not f.hunks)
        if unresolvable:
            raise SourceConflicts(index, unresolvable)
        return {f.path: resolve_text(f, [source.side] * len(f.hunks)) for f in files}
    resolved = source.files or {}
    missing = tuple(p for p in merged.conflicted if p not in resolved)
    if missing:
        raise SourceConflicts(index, missing)
    if source.resolved_on and source.resolved_on != onto:
        changed = ws.git(
            "diff", "--name-only", "-z", source.resolved_on, onto, "--", *resolved
        ).out.split("\0")
        stale = tuple(p for p in changed if p)
        if stale:
            raise SourceConflicts(index, stale, stale=True)
    return resolved


def merge_into(
    ws: Workspace,
    branch: str,
    source: str,
    message: str,
    resolutions: Mapping[str, str | None] | None = None,
) -> str:
    """Merge commit `source` into `branch` with a merge commit; returns the new head.

    No working tree is touched: the tree comes from `merge-tree`, conflicted files from
    `resolutions` (path -> full resolved text, or None to delete the file), and the branch moves
    by compare-and-swap. MergeRaced if it moved meanwhile; WorkspaceError for conflicts that
    `resolutions` does not cover. Already merged: returns the head unchanged.
    """
    ref = f"refs/heads/{branch}"
    old, old_tree, src = ws.rev_parse(ref, f"{ref}^{{tree}}", f"{source}^{{commit}}")
    merged = plumbing.merge_tree(ws.git, old, src)
    if merged.clean:
        if merged.tree == old_tree and ws.is_ancestor(src, old):
            return old
        tree = merged.tree
    else:
        missing = [p for p in merged.conflicted if p not in (resolutions or {})]
        if missing:
            raise WorkspaceError(
                f"merging {source} into {branch} conflicts in {', '.join(missing)}: "
                "resolve those files, or reject the task"
            )
        tree = plumbing.tree_with(ws.git, merged.tree, resolutions or {})
    new = plumbing.commit_tree(ws.git, tree, (old, src), message)
    if not ws.update_branch(branch, new, old, f"maestro: merge {source}"):
        raise MergeRaced(f"{branch} moved while merging {source}: nothing was changed, merge again")
    return new
