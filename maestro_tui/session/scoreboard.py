"""The scoreboard of the history, for both front ends (`maestro-tui stats`, the launcher's
tab): the store's counts per worker × model × role, with the reverts git knows of."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from maestro_tui.domain.scoreboard import Score
from maestro_tui.session.inputs import UserError
from maestro_tui.store.db import Store
from maestro_tui.store.outcomes import merged_units, scores
from maestro_tui.workspace.repo import Workspace, WorkspaceError
from maestro_tui.workspace.results import find_reverts

_AGO = re.compile(r"^(\d+)\s*([hdw])$")
_UNIT_S = {"h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Scoreboard:
    scores: tuple[Score, ...]
    since: float | None
    repo: str | None
    unread_repos: tuple[str, ...] = ()  # repositories gone or unreadable: reverts unknown

    @property
    def runs(self) -> int:
        return max((s.runs for s in self.scores), default=0)


def parse_since(text: str | None, now: float | None = None) -> float | None:
    """--since: a date (YYYY-MM-DD, local midnight), an ISO date and time, or 12h / 30d / 8w
    ago; None when not given."""
    if text is None:
        return None
    found = _AGO.match(text.strip())
    if found:
        return (now if now is not None else time.time()) - int(found[1]) * _UNIT_S[found[2]]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise UserError(
            f"--since {text!r}: give a date (2025-03-01), a date and time, or 12h, 30d, 8w"
        ) from None


def repo_root(path: Path | None) -> str | None:
    """The repository a `--repo PATH` names, as runs record it (its top folder)."""
    return None if path is None else str(Workspace.open(path.expanduser()).root)


async def load_scoreboard(
    db_path: Path, since: float | None = None, repo: str | None = None
) -> Scoreboard:
    """Scores of the runs started since `since` (in `repo`), reverts counted from git."""
    store = await Store.open(db_path)
    try:
        found = await scores(store, since, repo)
        merged = await merged_units(store, since, repo)
    finally:
        await store.close()
    reverted, unknown, unread = await asyncio.to_thread(count_reverts, merged)
    board = tuple(
        dataclasses.replace(s, reverted=None if key in unknown else reverted.get(key, 0))
        for s in found
        for key in [(s.worker, s.model, s.role)]
    )
    return Scoreboard(board, since, repo, tuple(unread))


def count_reverts(
    merged: Sequence[tuple[Any, ...]],
) -> tuple[Counter[tuple[str, str, str]], set[tuple[str, str, str]], list[str]]:
    """Merged units later reverted, per (worker, model, role); the groups with a unit in a
    repository that could not be read (their reverts are unknown); and those repositories.
    One `git log` per repository, from its oldest run on."""
    by_repo: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for unit in merged:
        by_repo[unit[5]].append(unit)
    counts: Counter[tuple[str, str, str]] = Counter()
    unknown: set[tuple[str, str, str]] = set()
    unread = []
    for repo, units in by_repo.items():
        try:
            reverts = find_reverts(Workspace.open(Path(repo)), min(u[6] for u in units))
        except WorkspaceError:
            unread.append(repo)
            unknown.update((u[2], u[3], u[4]) for u in units)
            continue
        for run, task, worker, model, role, *_ in units:
            if (run, task) in reverts or (run, "*") in reverts:
                counts[(worker, model, role)] += 1
    return counts, unknown, unread
