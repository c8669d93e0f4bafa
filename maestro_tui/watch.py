"""File watching: which files change in an agent's worktree, for FileChanged events.

Uses watchfiles' default (inotify on Linux) backend: polling misses files rewritten within
one poll. Changes arrive debounced (~50 ms) and are reported once per path per batch, as the
path's final state in that batch: a file saved by "write new, delete old, rename" is one
"modified", not a delete and an add.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

DEBOUNCE_MS = 50
# How often the watcher thread wakes with nothing to report: the first wake-up tells
# `on_ready` that the watches are in place.
IDLE_WAKE_MS = 200

OnChange = Callable[[str, str], None]  # (repo-relative path, "added" | "modified" | "deleted")


def changes_by_path(root: Path, batch: set[tuple[Change, str]]) -> list[tuple[str, str]]:
    """One (relative path, change) per path in a watchfiles batch, sorted by path.

    A path that exists now was "added" if the batch only saw it added, else "modified"; a path
    that no longer exists was "deleted". Directories are left out: the files in them are reported.
    """
    seen: dict[str, set[Change]] = {}
    for change, path in batch:
        seen.setdefault(path, set()).add(change)
    out: list[tuple[str, str]] = []
    for path, kinds in seen.items():
        if os.path.isdir(path):
            continue
        if os.path.lexists(path):
            # Deleted and there again: replaced (an editor's save), so it was there before.
            kind = "added" if kinds == {Change.added} else "modified"
        else:
            kind = "deleted"
        try:
            rel = Path(path).relative_to(root).as_posix()
        except ValueError:  # outside the tree (a symlink resolved elsewhere): not ours
            continue
        out.append((rel, kind))
    out.sort()
    return out


class WorktreeFilter(DefaultFilter):
    """watchfiles' default filter, applied below the watched root only.

    A worktree may lie below a folder with a `.git` part (runs made before they moved out of
    .git/maestro-worktrees/, or a worktree_root chosen so), and the default filter drops any
    path with a `.git` part: judged on the whole path, it would report nothing at all.
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self._prefix = str(root) + os.sep

    def __call__(self, change: Change, path: str) -> bool:
        if path.startswith(self._prefix):
            path = path[len(self._prefix) :]
        return super().__call__(change, path)


async def watch_worktree(
    path: Path,
    on_change: OnChange,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[], None] | None = None,
    debounce_ms: int = DEBOUNCE_MS,
) -> None:
    """Report each change under `path` as `on_change(rel_path, change)` until `stop` is set.

    Ignores .git, __pycache__, virtualenvs, caches and editor swap files (watchfiles'
    DefaultFilter). `on_ready` is called once the watches are in place.
    """
    root = await asyncio.to_thread(path.resolve)  # inotify reports paths under it
    ready = on_ready
    async for batch in awatch(
        root,
        watch_filter=WorktreeFilter(root),
        debounce=debounce_ms,
        stop_event=stop,
        rust_timeout=IDLE_WAKE_MS,
        yield_on_timeout=True,
    ):
        if ready is not None:
            ready()
            ready = None
        for rel, kind in changes_by_path(root, batch):
            on_change(rel, kind)
