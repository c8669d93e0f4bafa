"""The words of a goal that a repository's files are matched against."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TERMS = 16
MAX_NAMES = 4  # each adds three strings to the search of the files' text
STOPWORDS = frozenset(
    """a an the and or but not no nor of in on at to for from by with into onto over under
    as is are be been being was were it its this that these those there here then than so
    if else when while where which who whom whose what how why all any each every some such
    do does did done doing can could should would may might must shall will just only also
    very more most less least much many few own same other too up out off again once about
    we you they them their our your my me us he she his her him i add adds added adding make
    makes making use uses using used new fix fixes fixed support supports implement please
    ensure allow allows let lets way like want need needs sure able etc e.g i.e via per
    code file files function functions method methods change changes update updates
    improve better""".split()
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATHLIKE = re.compile(r"[\w.-]*[\w-]/[\w./-]*\w|[\w-]+\.[A-Za-z][A-Za-z0-9]{0,5}\b")
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True)
class Term:
    """A word of the goal, as it is matched (lower case, plural and -ing taken off)."""

    text: str
    weight: float  # a code name (snake_case, camelCase) weighs more than a plain word
    word: str = ""  # as the goal has it, to say why a file matched

    @property
    def shown(self) -> str:
        return self.word or self.text


def stem(word: str) -> str:
    """The word without a plural or -ing, so it also finds its other forms as a prefix."""
    w = word.lower()
    if len(w) > 6 and w.endswith("ing"):  # pricing -> pric (price), not string -> str
        return w[:-3]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@dataclass(frozen=True)
class GoalWords:
    """What of a goal is matched against files: its words, the pairs of them that follow
    each other (a name of two words: "low stock" -> low_stock.py), the paths it mentions."""

    terms: list[Term]
    phrases: list[tuple[str, str]]
    mentions: list[str]
    names: list[str] = field(default_factory=list)  # code names as written: apply_discount

    def definitions(self) -> dict[str, str]:
        """Text that defines one of the goal's code names, and the name."""
        return {f"{kw} {n}": n for n in self.names for kw in ("class", "def", "function")}


def goal_words(goal: str) -> GoalWords:
    """The goal's words worth matching (lower case, stemmed), the pairs that follow each
    other, the paths it mentions (`keys.py`), and its code names as written."""
    terms: dict[str, float] = {}
    said: dict[str, str] = {}  # a term -> the goal's word it came from
    phrases: list[tuple[str, str]] = []
    names: list[str] = []
    previous = ""
    for word in _WORD.findall(goal):
        pieces = [p.lower() for p in _TOKEN.findall(word)]
        code = "_" in word.strip("_") or len(pieces) > 1
        if code and word.lower() not in STOPWORDS:
            terms[word.lower()] = max(terms.get(word.lower(), 0.0), 1.5)
            said.setdefault(word.lower(), word)
            if word not in names and len(word) >= 4:
                names.append(word)
        kept = ""
        for piece in pieces if code else [word.lower()]:
            if len(piece) >= 3 and piece not in STOPWORDS and not piece.isdigit():
                kept = stem(piece)
                terms[kept] = max(terms.get(kept, 0.0), 0.6 if code else 1.0)
                said.setdefault(kept, piece)
        if previous and kept and not code and (previous, kept) not in phrases:
            phrases.append((previous, kept))
        previous = "" if code else kept
    ranked = sorted(terms.items(), key=lambda kv: (-kv[1], -len(kv[0])))[:MAX_TERMS]
    mentions = [m.strip("./") for m in _PATHLIKE.findall(goal)]
    found = [m for m in mentions if m]
    chosen = [Term(t, w, said.get(t, "")) for t, w in ranked]
    return GoalWords(chosen, phrases, found, names[:MAX_NAMES])
