"""Git object plumbing: merge trees, trees with replaced files, commits, diff stats.

Functions over a `Git` runner, so that both the Workspace and merge.py use them without an
import cycle. Nothing here touches a working tree.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from maestro_tui.workspace._git import Git, WorkspaceError

_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


@dataclass(frozen=True)
class DiffStat:
    """What changed between two commits."""

    files: tuple[str, ...]
    insertions: int
    deletions: int

    @property
    def lines_changed(self) -> int:
        return self.insertions + self.deletions


@dataclass(frozen=True)
class MergeTreeResult:
    """Output of `git merge-tree --write-tree`: the tree and, if any, the conflicted paths."""

    tree: str
    conflicted: tuple[str, ...] = ()
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # path -> git's messages

    @property
    def clean(self) -> bool:
        return not self.conflicted


def commit_message(subject: str, body: str, trailers: Mapping[str, str]) -> str:
    """`subject\\n\\nbody\\n\\nKey: value...` with the trailers as the last paragraph."""
    parts = [" ".join(subject.split()) or "maestro: task result"]
    if body.strip():
        parts.append(body.strip())
    lines = []
    for key, value in trailers.items():
        if not _TRAILER_KEY.fullmatch(key):
            raise WorkspaceError(f"bad trailer key {key!r}: use letters, digits and '-' only")
        lines.append(f"{key}: {' '.join(str(value).split())}")
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def numstat(out: str) -> DiffStat:
    files: list[str] = []
    ins = dels = 0
    for record in out.split("\0"):
        if not record:
            continue
        added, deleted, path = record.split("\t", 2)
        files.append(path)
        ins += int(added) if added.isdigit() else 0  # "-" for binary files
        dels += int(deleted) if deleted.isdigit() else 0
    return DiffStat(tuple(files), ins, dels)


def merge_tree(git: Git, ours: str, theirs: str) -> MergeTreeResult:
    """Merge two commits into a tree object with `git merge-tree`; no worktree is touched."""
    res = git(
        "-c", "merge.conflictStyle=diff3",
        "merge-tree", "--write-tree", "-z", "--name-only", ours, theirs,
        ok=(0, 1, 128),
    )  # fmt: skip
    if res.code not in (0, 1):
        raise WorkspaceError(f"cannot merge {theirs} into {ours}: {res.err}")
    tree, _, rest = res.out.partition("\0")
    if res.code == 0:
        return MergeTreeResult(tree)
    names, _, messages = rest.partition("\0\0")
    conflicted = tuple(dict.fromkeys(n for n in names.split("\0") if n))
    notes: dict[str, list[str]] = {}
    fields = messages.split("\0")
    i = 0
    while i < len(fields) and fields[i].isdigit():
        n = int(fields[i])
        paths, kind, text = fields[i + 1 : i + 1 + n], fields[i + 1 + n], fields[i + 2 + n]
        if kind.startswith("CONFLICT"):
            for p in paths:
                notes.setdefault(p, []).append(text.strip())
        i += n + 3
    return MergeTreeResult(tree, conflicted, {p: tuple(v) for p, v in notes.items()})


def read_blob(git: Git, tree: str, path: str) -> bytes | None:
    res = git("cat-file", "blob", f"{tree}:{path}", ok=(0, 128))
    return None if res.code else res.out.encode("utf-8", "surrogateescape")


def tree_with(git: Git, tree: str, files: Mapping[str, str | None]) -> str:
    """A copy of `tree` with some files replaced (text) or deleted (None)."""
    with tempfile.TemporaryDirectory(prefix="maestro-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", tree, env=env)
        modes = {}
        listing = git("ls-tree", "-r", "-z", "--full-tree", tree, "--", *files).out
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            modes[path] = meta.split()[0]
        keep = [p for p, text in files.items() if text is not None]
        blobs: list[str] = []
        if keep:
            for n, p in enumerate(keep):
                (Path(tmp) / f"blob{n}").write_text(files[p] or "", "utf-8", newline="")
            names = "\n".join(str(Path(tmp) / f"blob{n}") for n in range(len(keep)))
            blobs = git("hash-object", "-w", "--stdin-paths", stdin=names).out.split()
        info = [f"{modes.get(p, '100644')} {sha}\t{p}" for p, sha in zip(keep, blobs, strict=True)]
        info += [f"0 {'0' * len(tree)}\t{p}" for p, text in files.items() if text is None]
        git("update-index", "-z", "--index-info", stdin="\0".join(info) + "\0", env=env)
        return git("write-tree", env=env).out.strip()


def commit_tree(git: Git, tree: str, parents: Sequence[str], message: str) -> str:
    args = [a for p in parents for a in ("-p", p)]
    return git("commit-tree", tree, *args, stdin=message).out.strip()
