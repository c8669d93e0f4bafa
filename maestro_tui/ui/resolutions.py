"""The reviewer's decisions on a conflicted merge, kept apart from the widgets that show them.

A `FileResolution` holds the decisions for one file (a choice per hunk, or a whole text edited
by hand) and turns them into the text the merge commits. Decisions are keyed by what a hunk
says (path and base/ours/theirs text), not where it sits, so they survive the integration
branch moving under an open review: `carry_over` keeps what still applies and names the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from maestro_tui.workspace.merge import ConflictFile, ConflictHunk, parse_hunks, resolve_text
from maestro_tui.workspace.validate import TestResult

CHOICE_LABELS = {
    "ours": "ours (integration branch)",
    "theirs": "theirs (this task)",
    "base": "base (neither side)",
    "both": "both (ours, then theirs)",
}


@dataclass
class FileResolution:
    """The reviewer's decisions for one conflicted file."""

    conflict: ConflictFile
    choices: list[str | None] = field(default_factory=list)
    manual: str | None = None  # the whole file, resolved by hand in $EDITOR

    @classmethod
    def undecided(cls, conflict: ConflictFile) -> FileResolution:
        return cls(conflict, [None] * len(conflict.hunks))

    @property
    def path(self) -> str:
        return self.conflict.path

    @property
    def decided(self) -> bool:
        if self.manual is not None:
            return True
        return bool(self.choices) and all(c is not None for c in self.choices)

    def first_undecided(self) -> int | None:
        """Index of the first hunk without a choice (None: all chosen, or resolved by hand)."""
        if self.manual is not None:
            return None
        return next((i for i, c in enumerate(self.choices) if c is None), None)

    def choose(self, hunk: int, choice: str) -> None:
        """Pick a side for one hunk; this drops a hand-edited resolution."""
        self.choices[hunk] = choice
        self.manual = None

    def set_manual(self, text: str) -> None:
        """Use `text` as the file's resolution; ValueError if conflict markers remain."""
        if parse_hunks(text) or any(
            line.startswith(("<<<<<<<", ">>>>>>>")) for line in text.splitlines()
        ):
            raise ValueError(f"{self.path} still has conflict markers: resolve every hunk")
        self.manual = text

    def text(self) -> str:
        """The resolved file, from the hand-edited text or the per-hunk choices."""
        if self.manual is not None:
            return self.manual
        if not self.decided:
            raise ValueError(f"{self.path}: hunk {(self.first_undecided() or 0) + 1} is undecided")
        return resolve_text(self.conflict, self.choices)

    def status(self) -> str:
        if not self.conflict.hunks:
            return "cannot be resolved here"
        if self.manual is not None:
            return "edited by hand"
        done = sum(c is not None for c in self.choices)
        return f"{done}/{len(self.choices)} hunks decided"


HunkKey = tuple[str, str, str, str]  # path, base, ours, theirs


def hunk_key(path: str, hunk: ConflictHunk) -> HunkKey:
    """What a decision is about: the file and the three texts, not where the hunk sits."""
    return (path, hunk.base, hunk.ours, hunk.theirs)


@dataclass(frozen=True)
class CarriedOver:
    """The reviewer's decisions laid over conflicts computed afresh."""

    resolutions: list[FileResolution]
    changed: frozenset[HunkKey]  # hunks that are new since the review opened: to decide
    kept: int  # decisions carried over

    @property
    def needs_attention(self) -> bool:
        return bool(self.changed)


def carry_over(old: Sequence[FileResolution], fresh: Sequence[ConflictFile]) -> CarriedOver:
    """Keep every decision whose hunk (by path and base/ours/theirs text) is still there, and
    reset only the hunks that really changed. A file resolved by hand keeps its text while
    the file's conflict is the same."""
    choices: dict[HunkKey, str] = {}
    manual: dict[str, tuple[str, str]] = {}  # path -> (conflict text, resolved text)
    known: set[HunkKey] = set()
    for res in old:
        for hunk, choice in zip(res.conflict.hunks, res.choices, strict=True):
            known.add(hunk_key(res.path, hunk))
            if choice is not None:
                choices[hunk_key(res.path, hunk)] = choice
        if res.manual is not None:
            manual[res.path] = (_unlabelled(res.conflict.text), res.manual)
    out: list[FileResolution] = []
    changed: set[HunkKey] = set()
    kept = 0
    for conflict in fresh:
        res = FileResolution.undecided(conflict)
        hand = manual.get(conflict.path)
        if hand is not None and hand[0] == _unlabelled(conflict.text):
            res.manual = hand[1]
            kept += 1
            out.append(res)
            continue
        for i, hunk in enumerate(conflict.hunks):
            key = hunk_key(conflict.path, hunk)
            if key in choices:
                res.choices[i] = choices[key]
                kept += 1
            if key not in known or conflict.path in manual:
                changed.add(key)
        out.append(res)
    return CarriedOver(out, frozenset(changed), kept)


def _unlabelled(text: str) -> str:
    """Marker text without the markers' labels (commit ids, which change with every merge
    that lands even when the conflict itself is the same)."""
    lines = text.splitlines(keepends=True)
    return "".join(
        line[:7] + "\n" if line.startswith(("<<<<<<<", "|||||||", ">>>>>>>")) else line
        for line in lines
    )


def both_overlap(hunk: ConflictHunk) -> bool:
    """ "both" here would keep two edits of the same lines (ours, then theirs): each side
    changed the same base text, so their concatenation likely repeats or contradicts itself."""
    return bool(hunk.base.strip()) and hunk.ours != hunk.base and hunk.theirs != hunk.base


def preview_text(res: FileResolution) -> str:
    """The file as it would be merged now; undecided hunks keep their conflict markers."""
    return res.manual if res.manual is not None else resolve_text(res.conflict, res.choices)


def resolution_for(files: Sequence[FileResolution]) -> str | dict[str, str]:
    """What `Orchestrator.merges.approve` takes: "ours"/"theirs" if every hunk took that side,
    else path -> resolved text (so the event log records the simplest true answer)."""
    picks = {c for f in files for c in f.choices}
    if len(picks) == 1 and picks <= {"ours", "theirs"} and all(f.manual is None for f in files):
        return str(next(iter(picks)))
    return {f.path: f.text() for f in files}


def _resolution_key(resolution: str | Mapping[str, str] | None) -> str:
    return json.dumps(resolution, sort_keys=True)


@dataclass(frozen=True)
class TrialOutcome:
    """The tests of a merge as resolved (the review's `g`), and which resolution they tested."""

    key: str
    passed: bool
    detail: str  # e.g. "12 passed" or "1 failed, 11 passed"
    tail: str

    @classmethod
    def of(cls, resolution: str | Mapping[str, str] | None, result: TestResult) -> TrialOutcome:
        counts = [
            f"{n} {word}"
            for n, word in ((result.n_failed, "failed"), (result.n_passed, "passed"))
            if n
        ]
        detail = ", ".join(counts) or (
            "timed out" if result.timed_out else f"exit {result.exit_code}"
        )
        return cls(_resolution_key(resolution), result.passed, detail, result.output_tail)

    def red_for(self, resolution: str | Mapping[str, str] | None) -> bool:
        """This resolution was tested, and it is red."""
        return not self.passed and self.key == _resolution_key(resolution)
