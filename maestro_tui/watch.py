"""File watching: which files change in an agent's worktree, for FileChanged events.

Uses watchfiles' default (inotify on Linux) backend, and polls only when the user's inotify
instances are used up (polling misses a file rewritten within one poll). Changes arrive
debounced (~50 ms) and are reported once per path per batch, as the path's final state in
that batch: a file saved by "write new, delete old, rename" is one "modified", not a delete
and an add. What a worker's program writes for itself (its scratch: Aider's repository map
cache) is not the agent's work and is never reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from pathlib import Path

from watchfiles import Change, DefaultFilter, awatch

from maestro_tui.config.presets import EVERY_SCRATCH, is_scratch

DEBOUNCE_MS = 50
NEW_FOLDER_FILES = 1000  # the most files reported from one folder just made
# How often a watcher's thread comes back with nothing to report. watchfiles runs each watcher
# in anyio's worker threads (40 at most by default): a watcher without a thread waits its turn,
# changes kept for it meanwhile, so a short turn keeps 200 agents' watchers all moving.
IDLE_WAKE_MS = 200
# Each watcher takes one of the user's inotify instances; when none is left (Linux's default
# is 128, one per agent at work, and other programs use some), a watcher polls instead.
POLL_MS = 500
_said_polling = False
log = logging.getLogger(__name__)
READY_WAIT_S = 5.0  # an agent does not wait longer than this for its watcher
STOP_WAIT_S = 2.0

OnChange = Callable[[str, str], None]  # (repo-relative path, "added" | "modified" | "deleted")


def changes_by_path(
    root: Path, batch: set[tuple[Change, str]], keep: Callable[[Change, str], bool] | None = None
) -> list[tuple[str, str]]:
    """One (relative path, change) per path in a watchfiles batch, sorted by path.

    A path that exists now was "added" if the batch only saw it added, else "modified"; a path
    that no longer exists was "deleted". Directories are left out: the files in them are
    reported. A directory just made is looked into, and its files (those `keep` lets
    through) are "added": inotify watches a new directory only once it has heard of it, and
    an agent that makes a folder and writes in it at once (`notes/x.md`) is faster than that.
    """
    seen: dict[str, set[Change]] = {}
    for change, path in batch:
        seen.setdefault(path, set()).add(change)
    for path, kinds in list(seen.items()):
        if Change.added in kinds and os.path.isdir(path):
            for inside in _files_under(path, keep):
                seen[inside] = {Change.added}  # new with its folder, whatever else was heard
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


def _files_under(folder: str, keep: Callable[[Change, str], bool] | None) -> list[str]:
    """The files in a new folder, up to NEW_FOLDER_FILES (a build's output can be huge)."""
    found: list[str] = []
    for where, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if keep is None or keep(Change.added, os.path.join(where, d))]
        found.extend(
            path
            for path in (os.path.join(where, name) for name in files)
            if keep is None or keep(Change.added, path)
        )
        if len(found) >= NEW_FOLDER_FILES:
            return found[:NEW_FOLDER_FILES]
    return found


class WorktreeFilter(DefaultFilter):
    """watchfiles' default filter, applied below the watched root only, and the workers'
    scratch (`scratch` globs, see config.presets.is_scratch) left out.

    A worktree may lie below a folder with a `.git` part (runs made before they moved out of
    .git/maestro-worktrees/, or a worktree_root chosen so), and the default filter drops any
    path with a `.git` part: judged on the whole path, it would report nothing at all.
    """

    def __init__(self, root: Path, scratch: Sequence[str] = EVERY_SCRATCH) -> None:
        super().__init__()
        self._prefix = str(root) + os.sep
        self._scratch = tuple(scratch)

    def __call__(self, change: Change, path: str) -> bool:
        if path.startswith(self._prefix):
            path = path[len(self._prefix) :]
            if self._scratch and is_scratch(path.replace(os.sep, "/"), self._scratch):
                return False
        return super().__call__(change, path)


async def watch_worktree(
    path: Path,
    on_change: OnChange,
    stop: asyncio.Event,
    *,
    on_ready: Callable[[], None] | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    scratch: Sequence[str] = EVERY_SCRATCH,
) -> None:
    """Report each change under `path` as `on_change(rel_path, change)` until `stop` is set.

    Ignores .git, __pycache__, virtualenvs, caches and editor swap files (watchfiles'
    DefaultFilter), and the paths `scratch` matches (by default, what any preset's program
    leaves in a worktree). `on_ready` is called once the watches are in place.
    """
    # inotify reports paths under the resolved root. A realpath is a few lstat calls: done
    # here, not queued in the default executor behind the run's git work, while the agent
    # has already started writing.
    root = Path(os.path.realpath(path))  # noqa: ASYNC240
    keep = WorktreeFilter(root, scratch)
    batches, upcoming = await _start(root, keep, stop, debounce_ms, polling=False)
    if _out_of_inotify(upcoming):
        _say_polling_once()
        batches, upcoming = await _start(root, keep, stop, debounce_ms, polling=True)
        await asyncio.sleep(POLL_MS / 1000)  # the poller's first look at the tree
    try:
        if on_ready is not None:
            on_ready()
        while True:
            try:
                batch = await upcoming
            except StopAsyncIteration:
                return
            for rel, kind in changes_by_path(root, batch, keep):
                on_change(rel, kind)
            upcoming = asyncio.ensure_future(anext(batches))
    finally:
        stop.set()  # the thread sees it within 50 ms and the generator ends
        if not upcoming.done():
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await upcoming
        await batches.aclose()


Batches = AsyncGenerator[set[tuple[Change, str]], None]


async def _start(
    root: Path, keep: WorktreeFilter, stop: asyncio.Event, debounce_ms: int, *, polling: bool
) -> tuple[Batches, asyncio.Future[set[tuple[Change, str]]]]:
    """The watcher and the wait for its first batch, once it has set its watches up (which
    it does in its first step, before it first waits)."""
    batches = awatch(
        root,
        watch_filter=keep,
        debounce=debounce_ms,
        stop_event=stop,
        rust_timeout=IDLE_WAKE_MS,
        force_polling=True if polling else None,  # None: watchfiles decides (WSL, env)
        poll_delay_ms=POLL_MS,
    )
    upcoming = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    return batches, upcoming


def _out_of_inotify(upcoming: asyncio.Future[set[tuple[Change, str]]]) -> bool:
    """The watcher could not start: the user's inotify instances are used up."""
    if not upcoming.done() or upcoming.cancelled():
        return False
    return "Too many open files" in str(upcoming.exception())


def _say_polling_once() -> None:
    global _said_polling
    if not _said_polling:
        _said_polling = True
        log.warning(
            "file watching: no inotify instance left (fs.inotify.max_user_instances, often"
            " 128, one per agent at work); the worktrees beyond it are polled every %d ms."
            " Raise it with: sudo sysctl fs.inotify.max_user_instances=1024",
            POLL_MS,
        )


@contextlib.asynccontextmanager
async def watching(
    path: Path, on_change: OnChange, scratch: Sequence[str] = EVERY_SCRATCH
) -> AsyncIterator[None]:
    """Report the changes under `path` while the block runs, but for its `scratch`; the
    watches are in place when it starts (or READY_WAIT_S has passed), so what the block does
    first is seen too."""
    stop, ready = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(
        watch_worktree(path, on_change, stop, on_ready=ready.set, scratch=scratch)
    )
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), READY_WAIT_S)
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(watcher, STOP_WAIT_S)
