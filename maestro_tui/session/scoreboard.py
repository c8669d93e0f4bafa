"""The scoreboard of the history, for both front ends (`maestro-tui stats`, the launcher's
tab): the store's counts per worker × model × role, with the reverts git knows of."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from maestro_tui.domain.scoreboard import Score
from maestro_tui.session.inputs import UserError
from maestro_tui.store.db import Store
from maestro_tui.store.outcomes import merged_among, repositories, scores
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
        repos = await repositories(store, since, repo)
        reverts, unread = await asyncio.to_thread(find_all_reverts, repos)
        pairs = [pair for pair in reverts if pair[1] != "*"]
        whole = [run for run, task in reverts if task == "*"]  # a run's landing reverted
        reverted = await merged_among(store, since, repo, units=pairs, runs=whole)
        unknown = await merged_among(store, since, repo, repos=unread) if unread else {}
    finally:
        await store.close()
    board = tuple(
        dataclasses.replace(s, reverted=None if key in unknown else reverted.get(key, 0))
        for s in found
        for key in [(s.worker, s.model, s.role)]
    )
    return Scoreboard(board, since, repo, tuple(unread))


def find_all_reverts(
    repos: Sequence[tuple[str, float]],
) -> tuple[set[tuple[str, str]], list[str]]:
    """The (run, task) results reverted in these repositories (task "*": every task of the
    run), one `git log` each from its first run on; and the repositories that could not be
    read (gone, or no longer git)."""
    found: set[tuple[str, str]] = set()
    unread = []
    for repo, since in repos:
        try:
            found.update(find_reverts(Workspace.open(Path(repo)), since))
        except WorkspaceError:
            unread.append(repo)
    return found, unread
