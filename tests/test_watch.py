"""watch_worktree: files created, modified and deleted in a worktree reach the callback."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import os
import shutil
from pathlib import Path

import pytest
from watchfiles import Change

from maestro_tui.watch import changes_by_path, watch_worktree

WAIT_S = 10.0  # an upper bound for one awaited change, not a sleep


class Seen:
    """Collects (path, change) callbacks; `expect` waits until a given one has arrived."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str]] = []
        self._arrived = asyncio.Event()

    def __call__(self, path: str, change: str) -> None:
        self.changes.append((path, change))
        self._arrived.set()

    async def expect(self, wanted: tuple[str, str]) -> None:
        async with asyncio.timeout(WAIT_S):
            while wanted not in self.changes:
                self._arrived.clear()
                await self._arrived.wait()


async def test_create_modify_delete_are_reported_relative_to_the_tree(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pkg").mkdir()
    seen, stop, ready = Seen(), asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch_worktree(tmp_path, seen, stop, on_ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), WAIT_S)
        (tmp_path / "pkg" / "new.py").write_text("x = 1\n")
        (tmp_path / ".git" / "index").write_text("ignored")
        (tmp_path / "pkg" / "__pycache__").mkdir()
        (tmp_path / "pkg" / "__pycache__" / "new.cpython-311.pyc").write_bytes(b"ignored")
        await seen.expect(("pkg/new.py", "added"))
        (tmp_path / "pkg" / "new.py").write_text("x = 2\n")
        await seen.expect(("pkg/new.py", "modified"))
        (tmp_path / "pkg" / "new.py").unlink()
        await seen.expect(("pkg/new.py", "deleted"))
    finally:
        stop.set()
        await asyncio.wait_for(watcher, WAIT_S)
    assert all(not p.startswith(".git") and "__pycache__" not in p for p, _ in seen.changes)


def test_a_batch_reports_each_path_once_as_it_ends_up(tmp_path: Path) -> None:
    (tmp_path / "kept.py").write_text("")
    (tmp_path / "saved.py").write_text("")
    (tmp_path / "new.py").write_text("")
    (tmp_path / "dir").mkdir()
    batch = {
        (Change.modified, str(tmp_path / "kept.py")),
        (Change.deleted, str(tmp_path / "saved.py")),  # an editor's write-new-then-rename
        (Change.added, str(tmp_path / "saved.py")),
        (Change.added, str(tmp_path / "gone.py")),
        (Change.added, str(tmp_path / "new.py")),
        (Change.added, str(tmp_path / "dir")),
    }
    assert changes_by_path(tmp_path, batch) == [
        ("gone.py", "deleted"),
        ("kept.py", "modified"),
        ("new.py", "added"),
        ("saved.py", "modified"),
    ]


async def test_files_written_in_a_folder_made_that_instant_are_reported(tmp_path: Path) -> None:
    """inotify watches a new folder only once it has heard of it; an agent that makes
    `notes/` and writes `notes/x.md` at once is faster than that. Every such file is seen."""
    seen, stop, ready = Seen(), asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch_worktree(tmp_path, seen, stop, on_ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), WAIT_S)
        for n in range(40):
            folder = tmp_path / f"notes{n}" / "deep"
            folder.mkdir(parents=True)  # and at once, before any watch can be set on it:
            (folder / "note.md").write_text(f"note {n}\n")
            (folder / "__pycache__").mkdir()  # filtered, inside as outside a new folder
            (folder / "__pycache__" / "x.pyc").write_bytes(b"")
        for n in range(40):
            await seen.expect((f"notes{n}/deep/note.md", "added"))
        assert not [path for path, _ in seen.changes if "__pycache__" in path]
    finally:
        stop.set()
        await asyncio.wait_for(watcher, WAIT_S)


async def test_file_activity_lists_each_agents_latest_files() -> None:
    from textual.app import App, ComposeResult

    from maestro_tui.domain import events as ev
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.ui.widgets.file_activity import FileActivity

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield FileActivity(per_task=2)

    bus = EventBus("r1")
    changes = [
        ("cli", "app/cli.py", "added"), ("docs", "README.md", "modified"),
        ("cli", "app/report.py", "modified"), ("cli", "app/cli.py", "modified"),
        ("cli", "app/old.py", "deleted"),
    ]  # fmt: skip
    events = [bus.emit(ev.FileChanged, task=t, path=p, change=c) for t, p, c in changes]
    async with Host().run_test() as pilot:
        activity = pilot.app.query_one(FileActivity)
        assert "no file changes yet" in str(activity.render())
        activity.feed([bus.emit(ev.TaskQueued, task="cli"), *events])
        assert activity.files("cli") == [("app/old.py", "deleted"), ("app/cli.py", "modified")]
        assert str(activity.render()).splitlines() == [
            "cli   -app/old.py  ~app/cli.py",
            "docs  ~README.md",
        ]
        activity.reset()
        assert activity.files("cli") == []


async def test_a_worktree_inside_a_git_folder_is_still_watched(tmp_path: Path) -> None:
    import asyncio

    from maestro_tui.watch import watch_worktree

    tree = tmp_path / "repo" / ".git" / "maestro-worktrees" / "run" / "task-1"
    tree.mkdir(parents=True)
    seen: list[tuple[str, str]] = []
    got, ready, stop = asyncio.Event(), asyncio.Event(), asyncio.Event()

    def changed(path: str, change: str) -> None:
        seen.append((path, change))
        got.set()

    watcher = asyncio.create_task(watch_worktree(tree, changed, stop, on_ready=ready.set))
    await asyncio.wait_for(ready.wait(), 10)
    (tree / "app.py").write_text("x = 1\n")
    (tree / ".git").mkdir()  # the worktree's own git data stays ignored
    (tree / ".git" / "index").write_text("")
    await asyncio.wait_for(got.wait(), 10)
    stop.set()
    await asyncio.wait_for(watcher, 10)
    assert ("app.py", "added") in seen
    assert not any(path.startswith(".git") for path, _ in seen)


async def test_with_no_inotify_instance_left_the_tree_is_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each watcher takes one of the user's inotify instances (Linux's default limit is 128):
    the agents beyond it must still have their changes reported, and the user told why
    watching is slower."""
    import maestro_tui.watch as watch

    monkeypatch.setattr(watch, "_said_polling", False)
    libc = ctypes.CDLL(None, use_errno=True)
    held: list[int] = []
    seen, stop, ready = Seen(), asyncio.Event(), asyncio.Event()
    try:
        # Every instance this user may have, taken; again after a moment, for those the
        # watchers of earlier tests were still giving back.
        for _ in range(3):
            while len(held) < 100_000 and (fd := libc.inotify_init1(os.O_CLOEXEC)) >= 0:
                held.append(fd)
            assert ctypes.get_errno() == errno.EMFILE
            await asyncio.sleep(0.2)
        watcher = asyncio.create_task(watch_worktree(tmp_path, seen, stop, on_ready=ready.set))
        await asyncio.wait_for(ready.wait(), WAIT_S)
        await asyncio.sleep(2 * watch.POLL_MS / 1000)  # the poller's first look at the tree
        (tmp_path / "late.txt").write_text("seen by polling\n")
        await seen.expect(("late.txt", "added"))
    finally:
        for fd in held:
            os.close(fd)
        stop.set()
    await asyncio.wait_for(watcher, WAIT_S)
    assert "max_user_instances" in caplog.text


async def test_what_a_worker_writes_for_itself_is_not_reported(tmp_path: Path) -> None:
    """Aider's repository-map cache (a folder made and written at once, rewritten, removed
    before the commit) is its own scratch, not the agent's work: never a FileChanged. A
    project's own `.aiderignore`, written by the agent, is."""
    seen, stop, ready = Seen(), asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch_worktree(tmp_path, seen, stop, on_ready=ready.set))
    try:
        await asyncio.wait_for(ready.wait(), WAIT_S)
        cache = tmp_path / ".aider.tags.cache.v4"
        cache.mkdir()
        (cache / "cache.db").write_bytes(b"tags")
        (cache / "cache.db-journal").write_bytes(b"")
        (tmp_path / ".aider.chat.history.md").write_text("# aider chat started\n")
        (tmp_path / "app.py").write_text("x = 1\n")
        (tmp_path / ".aiderignore").write_text("build/\n")
        await seen.expect(("app.py", "added"))
        (cache / "cache.db").write_bytes(b"more tags")
        shutil.rmtree(cache)  # as the worker tidies up before the commit
        (tmp_path / ".aider.chat.history.md").unlink()
        (tmp_path / "done.txt").write_text("")  # after all of the above, in order
        await seen.expect(("done.txt", "added"))
    finally:
        stop.set()
        await asyncio.wait_for(watcher, WAIT_S)
    assert sorted(set(seen.changes)) == [
        (".aiderignore", "added"),
        ("app.py", "added"),
        ("done.txt", "added"),
    ]


async def test_the_files_pane_leaves_out_scratch_a_recorded_run_reported() -> None:
    from textual.app import App, ComposeResult

    from maestro_tui.domain import events as ev
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.ui.widgets.file_activity import FileActivity

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield FileActivity()

    bus = EventBus("r1")
    paths = [".aider.tags.cache.v4/cache.db", "app.py", ".aider.chat.history.md"]
    events = [bus.emit(ev.FileChanged, task="t1", path=p, change="added") for p in paths]
    async with Host().run_test() as pilot:
        activity = pilot.app.query_one(FileActivity)
        activity.feed(events)
        assert activity.files("t1") == [("app.py", "added")]
