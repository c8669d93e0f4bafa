"""The map of a repository a planner sees first: its files ranked by relevance to the goal,
within a token budget.

A file ranks by the goal's words in its name and path (rarer words weigh more), by how often
its text holds them, and by its imports: what the best files import, and who imports the best
named ones. One `git ls-files` and one `grep -F` pass over the files read the repository;
only the few best files are parsed for their imports.
"""

from __future__ import annotations

import bisect
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from maestro_tui.workspace.files import GitListing, size_text, top_level_names, walk_files
from maestro_tui.workspace.goal_words import GoalWords, Term, goal_words
from maestro_tui.workspace.imports import (
    ModuleIndex,
    importer_needles,
    imports_of,
    is_python,
    is_script,
    needle_applies,
)
from maestro_tui.workspace.search import TermSearch, read_text_bytes, scan_terms

CHARS_PER_TOKEN = 4
DEFAULT_MAP_TOKENS = 4_000
IMPORT_SEEDS = 12  # the best files whose own imports are followed
IMPORTED_SEEDS = 5  # the best named files whose importers are looked for
MAX_IMPORTERS_READ = 40  # files whose text suggests they import a best one, read to confirm
DEFINES_POINTS = 20.0  # a file that defines a class or function the goal names
NEIGHBOUR_SHARE = 0.3  # of a seed's score, given to what it imports and what imports it
SAMPLE_FILES = 200  # read to tell a common word (in most files: worthless) from a rare one
COMMON_SHARE = 0.4
MAX_SYMBOLS = 8
MAX_SOURCE_BYTES = 400_000  # a larger file is not parsed for imports or names
MAX_REASONS = 3
MANIFESTS = frozenset(
    {"README.md", "README.rst", "README", "pyproject.toml", "setup.py", "setup.cfg",
     "package.json", "tsconfig.json", "Cargo.toml", "go.mod", "Makefile", "pom.xml"}
)  # fmt: skip
Adder = Callable[[str, float, str], None]  # (path, points, reason)


@dataclass
class RankedFile:
    path: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)


class Sources:
    """The files read for the map, each read once: the best files' imports while ranking,
    their top-level names while rendering."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._text: dict[str, bytes | None] = {}
        self._imports: dict[str, list[str]] = {}

    def text(self, path: str) -> bytes | None:
        if path not in self._text:
            self._text[path] = read_text_bytes(self.root, path, MAX_SOURCE_BYTES)
        return self._text[path]

    def imports(self, path: str, index: ModuleIndex) -> list[str]:
        if path not in self._imports:
            self._imports[path] = imports_of(path, self.text(path) or b"", index)
        return self._imports[path]


@dataclass(frozen=True)
class Ranking:
    """Every file of the repository, and those relevant to the goal, best first."""

    files: list[str]
    ranked: list[RankedFile]
    sources: Sources | None = None


class Scores:
    """Each file's points so far, and why."""

    def __init__(self) -> None:
        self.files: dict[str, RankedFile] = {}

    def add(self, path: str, points: float, reason: str) -> None:
        entry = self.files.setdefault(path, RankedFile(path))
        entry.score += points
        if reason and reason not in entry.reasons:
            entry.reasons.append(reason)

    def best(self, n: int) -> list[str]:
        best = sorted(self.files.values(), key=lambda f: (-f.score, f.path))[:n]
        return [f.path for f in best if f.score >= 1.0]

    def ranked(self) -> list[RankedFile]:
        ranked = sorted(self.files.values(), key=lambda f: (-f.score, len(f.path), f.path))
        return [f for f in ranked if f.score > 0]


def rank_files(root: Path, goal: str, exclude: Iterable[str] = ()) -> Ranking:
    """The repository's files, and those that bear on the goal ranked best first.

    In a git repository the search of the tracked files' text runs while git lists the
    untracked ones (a walk of the folders): the two slowest steps, at once.
    """
    root = Path(root)
    words = goal_words(goal)
    listing = GitListing.start(root, exclude)
    if listing is not None:
        files = listing.tracked
    else:  # no symlink: what it points to may lie outside
        files = [f for f in walk_files(root, exclude) if not os.path.islink(root / f)]
    scores = Scores()
    _score_names(files, words, scores)
    seeds = scores.best(IMPORTED_SEEDS)
    needles = {n: seed for seed in seeds for n in importer_needles(seed)}
    definitions = words.definitions()
    content = _content_terms(root, files, words.terms)
    texts = [t.text for t in content]
    exact = [*needles, *definitions, *words.names]  # a camelCase name as written
    search = TermSearch(root, texts, exact, files)
    sources = Sources(root)
    index = ModuleIndex(set(files))
    unsearched = search.unread if listing is None else (listing.untracked() or [])
    if listing is not None and unsearched:
        files = sorted([*files, *unsearched])
        index = ModuleIndex(set(files))
        scores = Scores()  # the names again, each word's rarity now among all the files
        _score_names(files, words, scores)
    for path in scores.best(IMPORT_SEEDS):  # while git grep reads: likely seeds' imports
        sources.imports(path, index)
    counts = search.result()
    counts.update(scan_terms(root, texts, unsearched, exact))
    for found in counts.values():
        for name in words.names:
            if name in found and name != name.lower():  # counted as its term
                found[name.lower()] = found.get(name.lower(), 0) + found.pop(name)
    _score_contents(counts, content, len(files), scores)
    for path, found in counts.items():
        for text in found.keys() & definitions.keys():
            scores.add(path, DEFINES_POINTS, f"defines {definitions[text]}")
    _score_imports(sources, index, counts, needles, scores)
    return Ranking(files, scores.ranked(), sources)


def _score_names(files: Sequence[str], words: GoalWords, scores: Scores) -> None:
    for name in files:
        if name in MANIFESTS:
            scores.add(name, 0.5, "")
    for mention in words.mentions:
        for name in files:
            if name == mention or name.endswith("/" + mention):
                scores.add(name, 30.0, "named in the goal")
    _score_paths(files, words, scores.add)


def _score_paths(files: Sequence[str], words: GoalWords, add: Adder) -> None:
    """Terms in a file's name weigh most, in its folders less; rarer terms weigh more; two
    words of the goal in a row that make a file's name weigh most of all. The paths are
    searched as one string, so a large repository costs a few scans, not a loop."""
    if not files or not words.terms:
        return
    joined = "\n".join(files).lower()
    starts = [0, *accumulate(len(name) + 1 for name in files[:-1])]
    named: dict[str, tuple[set[int], float]] = {}  # term -> (files it names, its points)
    for term in words.terms:
        word = _word_start(term.text)
        hits: dict[int, str] = {}
        pos = joined.find(term.text)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            folder, _, name = files[i].rpartition("/")
            if word.search(name):
                hits[i] = "name"
            elif word.search(folder):
                hits[i] = "folder"
            pos = joined.find(term.text, starts[i + 1]) if i + 1 < len(files) else -1
        if not hits:
            continue
        rarity = math.log(1 + len(files) / len(hits))
        for i, where in hits.items():
            points = (4.0 if where == "name" else 1.5) * term.weight * rarity
            add(files[i], points, f"{where}: {term.shown}")
        named[term.text] = ({i for i, w in hits.items() if w == "name"}, 4.0 * rarity)
    shown = {t.text: t.shown for t in words.terms}
    for a, b in words.phrases:
        if a in named and b in named:
            for i in named[a][0] & named[b][0]:
                base = files[i].rpartition("/")[2].lower()
                if a + b in re.sub(r"[^a-z0-9]", "", base):
                    add(files[i], named[a][1] + named[b][1], f"name: {shown[a]} {shown[b]}")


def _word_start(term: str) -> re.Pattern[str]:
    """The term as a word of a name: it starts after a separator, a digit or at a camelCase
    hump, and ends there or a few letters later (-s, -es, -ing, -ed, -er)."""
    start = r"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))"
    return re.compile(start + "(?i:" + re.escape(term) + ")[a-z]{0,3}(?![a-z])")


def _content_terms(root: Path, files: Sequence[str], terms: Sequence[Term]) -> list[Term]:
    """The terms worth searching the files for: those not in most of a sample of them."""
    if len(files) <= SAMPLE_FILES:
        return list(terms)
    step = len(files) / SAMPLE_FILES
    sample = [read_text_bytes(root, files[int(i * step)]) for i in range(SAMPLE_FILES)]
    texts = [s.lower() for s in sample if s is not None]
    if not texts:
        return list(terms)
    return [
        t
        for t in terms
        if sum(t.text.encode() in text for text in texts) <= COMMON_SHARE * len(texts)
    ]


def _score_contents(
    counts: dict[str, dict[str, int]], terms: Sequence[Term], total: int, scores: Scores
) -> None:
    """Points for the goal's words in a file's text: rarer words more, and a word's count
    saturates (a long file that says it often is not made the goal's file by that)."""
    weight = {t.text: t.weight for t in terms}
    said = {t.text: t.shown for t in terms}
    holding: dict[str, int] = {}
    for found in counts.values():
        for text in found:
            holding[text] = holding.get(text, 0) + 1
    for path, found in counts.items():
        words = [w for w in found if w in weight]
        if words:
            points = sum(
                2.0 * weight[w] * math.log(1 + total / holding[w]) * found[w] / (found[w] + 1.5)
                for w in words
            )
            shown = ", ".join(said[w] for w in sorted(words, key=len, reverse=True)[:3])
            scores.add(path, points, f"mentions {shown}")


def _score_imports(
    sources: Sources,
    index: ModuleIndex,
    counts: dict[str, dict[str, int]],
    needles: dict[str, str],
    scores: Scores,
) -> None:
    """What the best files import, and who imports the best named ones (a file holding one's
    needle, confirmed by reading its imports), get a share of that file's points: the
    largest one share, so a module that every file imports is not lifted by them all."""
    points = {path: entry.score for path, entry in scores.files.items()}
    shares: dict[str, tuple[float, str]] = {}

    def offer(path: str, share: float, reason: str) -> None:
        if share > shares.get(path, (0.0, ""))[0]:
            shares[path] = (share, reason)

    for seed in scores.best(IMPORT_SEEDS):
        for target in sources.imports(seed, index):
            offer(target, points[seed] * NEIGHBOUR_SHARE, f"imported by {seed}")
    suspects: dict[str, set[str]] = {}
    for path, found in counts.items():
        for needle in found.keys() & needles.keys():
            wanted = needles[needle]
            if wanted != path and needle_applies(wanted, path):
                suspects.setdefault(path, set()).add(wanted)
    best_first = sorted(suspects, key=lambda p: (-points.get(p, 0.0), p))
    for path in best_first[:MAX_IMPORTERS_READ]:
        imported = set(sources.imports(path, index))
        for seed in sorted(suspects[path] & imported):
            offer(path, points[seed] * NEIGHBOUR_SHARE, f"imports {seed}")
    for path, (share, reason) in shares.items():
        scores.add(path, share, reason)


def ranked_map(
    root: Path, goal: str, max_tokens: int = DEFAULT_MAP_TOKENS, exclude: Iterable[str] = ()
) -> str:
    """The repository's files, the most relevant to the goal first with why, then the rest
    (each file when they all fit, else counted by folder), in about `max_tokens` tokens."""
    return render_map(Path(root), rank_files(root, goal, exclude), max_tokens)


def render_map(root: Path, ranking: Ranking, max_tokens: int) -> str:
    """The map's text: the ranked files with why, then the others each (when they all fit)
    or counted by folder, in about `max_tokens` tokens."""
    budget = max(400, max_tokens * CHARS_PER_TOKEN)
    files = ranking.files
    sources = ranking.sources or Sources(root)
    if not files:
        return "(empty repository)"
    lines = [
        f"{len(files)} files. The most relevant to the goal first (a name, path or text that "
        "matches it, or an import), with why; then the others."
    ]
    used = len(lines[0]) + 1
    listed = {r.path for r in ranking.ranked}
    others = [f for f in files if f not in listed]
    whole = sum(len(r.path) + 80 for r in ranking.ranked) + sum(len(f) + 12 for f in others)
    fits = used + whole <= budget
    room = budget if fits else int(budget * 0.7)  # the rest for the folders
    shown: set[str] = set()

    def put(line: str) -> bool:
        nonlocal used
        if used + len(line) + 1 > room:
            return False
        lines.append(line)
        used += len(line) + 1
        return True

    complete = True
    header = "Other files:" if listed else ""
    for path, reasons in [(r.path, r.reasons) for r in ranking.ranked] + [(f, []) for f in others]:
        if path not in listed and not fits:
            break
        line = _entry(root, path, reasons, sources)
        if line is not None:
            if path not in listed and header:
                if not put(header):
                    complete = False
                    break
                header = ""
            if not put(line):
                complete = False
                break
        shown.add(path)  # or deleted from the working tree: not counted below either
    left = [f for f in files if f not in shown]
    if left or not complete:
        lines += _by_folder(left, budget - used, bool(shown))
    return "\n".join(lines)


def _entry(root: Path, path: str, reasons: list[str], sources: Sources) -> str | None:
    try:
        size = os.stat(os.path.join(root, path)).st_size
    except OSError:
        return None  # deleted from the working tree
    line = f"{path} ({size_text(size)})"
    source = sources.text(path) if is_python(path) or is_script(path) else None
    symbols = top_level_names(path, source, MAX_SYMBOLS)
    if symbols:
        line += ": " + ", ".join(symbols)
    if reasons:
        line += " [" + "; ".join(r[:70] for r in reasons[:MAX_REASONS]) + "]"
    return line


def _by_folder(files: Sequence[str], room: int, after_entries: bool) -> list[str]:
    """The files not listed, counted by folder: as deep as the room allows."""
    head = "Other files, by folder:" if after_entries else "Files by folder:"
    per_folder: dict[str, int] = {}
    for name in files:
        folder = name.rpartition("/")[0]
        per_folder[folder] = per_folder.get(folder, 0) + 1
    for depth in (3, 2, 1):
        groups: dict[str, int] = {}
        for folder, count in per_folder.items():
            key = "/".join(folder.split("/")[:depth]) + "/" if folder else "./"
            groups[key] = groups.get(key, 0) + count
        lines = [f"{k} ({v} file{'s' if v != 1 else ''})" for k, v in sorted(groups.items())]
        if sum(len(line) + 1 for line in lines) + len(head) <= room:
            break
    if not files or room < len(head) + 40:
        return []
    out = [head]
    used = len(head) + len("\n… and 99999 more folders")  # room kept for the last line
    for n, line in enumerate(lines):
        if used + len(line) + 1 > room:
            out.append(f"… and {len(lines) - n} more folders")
            break
        out.append(line)
        used += len(line) + 1
    return out
