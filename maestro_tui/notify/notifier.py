"""The Notifier: a bus subscriber that tells the human, through every channel, never in the way.

It only queues from the subscriber call (which must not block); a task of its own sends. A
burst of notices of one kind (ten tasks blocked by one failure) becomes one notification. A
channel that fails is reported once and then left alone; nothing here can stop the run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Sequence

from maestro_tui.domain import events as ev
from maestro_tui.domain.attention import Notice, NoticeKind, notice_for
from maestro_tui.notify.channels import Channel, TerminalChannel

COALESCE_S = 0.5  # notices this close together go out as one
SEND_TIMEOUT_S = 15.0
CLOSE_TIMEOUT_S = 5.0

FailureSink = Callable[[str, str], None]  # (channel, error)


def coalesce(notices: Sequence[Notice]) -> list[Notice]:
    """One notice per kind: a single one as it is, several as a count with their tasks."""
    by_kind: dict[NoticeKind, list[Notice]] = {}
    for notice in notices:
        by_kind.setdefault(notice.kind, []).append(notice)
    out = []
    for kind, group in by_kind.items():
        if len(group) == 1 or kind is NoticeKind.RUN_FINISHED:
            out.append(group[-1])
            continue
        tasks = [n.task for n in group if n.task]
        title = {
            NoticeKind.MERGE_WAITING: f"{len(group)} merges wait for you",
            NoticeKind.TASK_FAILED: f"{len(group)} tasks failed or are blocked",
            NoticeKind.STALLED: f"{len(group)} agents need you",
        }.get(kind, group[-1].title)
        body = ", ".join(tasks) if tasks else group[-1].body
        out.append(Notice(kind, title, body, group[-1].run_id))
    return out


class Notifier:
    """Subscribe it to the bus; `aclose()` sends what is still queued (the run's end, say)."""

    def __init__(
        self,
        channels: Sequence[Channel],
        kinds: Collection[NoticeKind],
        on_failure: FailureSink | None = None,
        *,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self.channels = list(channels)
        self.kinds = frozenset(kinds)
        self._on_failure = on_failure
        self._coalesce_s = coalesce_s
        self._queue: list[Notice] = []
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()  # set by aclose: stop gathering, send now
        self._task: asyncio.Task[None] | None = None
        self._failed: set[str] = set()
        self._closing = False
        self.sent: list[Notice] = []  # what went out, in order (for the dashboard and tests)

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def attach_terminal(self, write: Callable[[str], None] | None) -> None:
        """Where the bell and OSC notifications go from now on (None: nowhere)."""
        for channel in self.channels:
            if isinstance(channel, TerminalChannel):
                channel.write = write

    def __call__(self, event: ev.Event) -> None:
        """The bus subscriber: O(1), never blocks."""
        if not self.channels or self._closing:
            return
        notice = notice_for(event)
        if notice is None or notice.kind not in self.kinds:
            return
        self._queue.append(notice)
        self._wake.set()
        if self._task is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop (a replay being folded): nobody to tell
                return
            self._task = loop.create_task(self._run(), name="maestro-notifier")

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            with contextlib.suppress(TimeoutError):  # gather a burst, unless closing
                await asyncio.wait_for(self._closed.wait(), self._coalesce_s)
            self._wake.clear()
            batch, self._queue = self._queue, []
            for notice in coalesce(batch):
                await self._send(notice)
            if self._closing and not self._queue:
                return

    async def _send(self, notice: Notice) -> None:
        for channel in self.channels:
            try:
                await asyncio.wait_for(channel.send(notice), SEND_TIMEOUT_S)
            except Exception as exc:  # a channel's trouble is never the run's
                self._report(channel.name, str(exc) or type(exc).__name__)
        self.sent.append(notice)

    def _report(self, channel: str, error: str) -> None:
        if channel in self._failed:
            return
        self._failed.add(channel)
        if self._on_failure is not None:
            with contextlib.suppress(Exception):
                self._on_failure(channel, error)

    async def aclose(self) -> None:
        """Send what is queued (bounded in time), then stop."""
        self._closing = True
        self._closed.set()
        task, self._task = self._task, None
        if task is None:
            return
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), CLOSE_TIMEOUT_S)
        except TimeoutError:
            task.cancel()  # a channel that hangs is given up on (its process is killed)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        except Exception as exc:
            self._report("notifier", str(exc))
