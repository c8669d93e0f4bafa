"""What runs on a Ray node: one step of an attempt, in a clone in the node's own temp dir.

A step gets the repository at the base commit as a git bundle (and, when the clone has to be
built or reset, the commit whose files it should hold), runs the agent there with a reporter
that sends everything back through a Ray queue, commits the result in the clone and, when the
run has a test command, runs the tests on it. It returns the commit as a bundle. Nothing here
assumes a filesystem shared with the head: a clone is found again only on the node that made
it, and only when the step before it finished there; otherwise the step builds a new one.

Ray is imported inside the functions: only a Ray worker process runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Worker, WorkerJob, WorkerResult
from maestro_tui.process import Sandbox
from maestro_tui.watch import watching
from maestro_tui.workspace.bundle import clone_bundle, make_bundle, unbundle
from maestro_tui.workspace.repo import CommitInfo, Workspace
from maestro_tui.workspace.validate import TestResult, run_tests

FLUSH_S = 0.05  # how long output waits on the node before it travels, merged with the next
MARKER = "maestro-step"  # in a clone's .git: the token of the last step that finished in it
Message = tuple[str, tuple[Any, ...], dict[str, Any]]  # (kind, args, kwargs)


@dataclass(frozen=True)
class StepSpec:
    """One step of an attempt. `state` is the commit whose files the clone holds (the base,
    the task's last commit, or a result to fix merged onto the base); `delta` a bundle of it
    beyond the base, None when it is the base."""

    run_id: str
    label: str
    attempt: int
    base: str
    state: str
    delta: bytes | None
    reset: bool  # put `state`'s files in even if the clone is kept (a fix starts)
    after: str  # the token of the step before, whose clone this one may go on in
    token: str
    relay: Any  # a ray.util.queue.Queue of message batches for the head
    exclude: tuple[str, ...] = ()
    worker: Worker | None = None  # None: a step that only runs the tests
    job: WorkerJob | None = None
    test_command: str = ""
    test_timeout_s: float | None = None
    test_env: tuple[tuple[str, str], ...] = ()
    sandbox: Sandbox | None = None  # [sandbox] as the head made it, re-aimed at the clone here


@dataclass(frozen=True)
class StepResult:
    """What a step hands back; `pack` is a bundle of `snapshot.sha` beyond the base."""

    token: str
    node: str
    pid: int
    workdir: str
    built: bool
    result: WorkerResult | None
    snapshot: CommitInfo | None
    pack: bytes | None
    tests: TestResult | None
    try_id: str  # which try of the step this is (Ray runs one again when its worker dies)
    batches: int  # the relay's batches this try sent before it finished
    tail: list[Message]  # what it had not sent yet
    seconds: float  # time spent in the step's body, for the benchmark's overhead


def attempt_dir(run_id: str, label: str, attempt: int) -> Path:
    """Where one attempt's clones live on a node (in its temp dir, not the user's repo)."""
    return Path(tempfile.gettempdir()) / "maestro-ray" / run_id / f"{label}-{attempt}"


class BatchReporter:
    """Sends a step's messages to the head in batches through the queue: output, usage, tool
    calls, files changed. Implements agents.base.Reporter for the worker.

    Each batch names the step and this try of it (Ray may run a step twice). What is still
    pending when the step ends travels with its result instead, with the number of batches
    sent before it, so the head can deliver everything in order without another round trip.
    """

    def __init__(self, queue: Any, key: str) -> None:
        self._queue = queue
        self._key = key
        self.try_id = uuid.uuid4().hex
        self.sent = 0
        self._pending: list[Message] = []
        self._wake = asyncio.Event()
        self._sending = asyncio.Lock()

    def send(self, kind: str, *args: Any, **kwargs: Any) -> None:
        self._pending.append((kind, args, kwargs))
        self._wake.set()

    def take(self) -> list[Message]:
        batch, self._pending = self._pending, []
        return batch

    async def flush(self) -> None:
        async with self._sending:
            batch = self.take()
            if batch:
                await self._queue.put_async((self._key, self.try_id, batch))
                self.sent += 1

    async def pump(self) -> None:
        """Until cancelled: send what is pending, at most every FLUSH_S."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_S)  # merge a burst of lines into one message
            await self.flush()

    @contextlib.asynccontextmanager
    async def pumping(self) -> AsyncIterator[None]:
        pump = asyncio.create_task(self.pump())
        try:
            yield
        except BaseException:
            self.send("end")  # the head waits for this when the step failed
            raise
        finally:
            async with self._sending:  # never stopped in the middle of sending a batch
                pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            if self._pending and self._pending[-1][0] == "end":
                with contextlib.suppress(Exception):
                    await self.flush()

    def output(self, text: str, stream: str = "stdout") -> None:
        self.send("output", text, stream)

    def usage(self, model: str, tokens_in: int, tokens_out: int, cost_usd: float | None,
              latency_s: float = 0.0, simulated: bool = False) -> None:  # fmt: skip
        self.send("usage", model, tokens_in, tokens_out, cost_usd, latency_s, simulated)

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None:
        self.send("tool", tool, args, ok, error)

    def finding(self, text: str) -> None:
        self.send("finding", text)

    def file_changed(self, path: str, change: str = "modified") -> None:
        self.send("file_changed", path, change)

    def session(self, session_id: str, resumed: bool = False) -> None:
        self.send("session", session_id, resumed)

    def waiting(self, reason: str, retry_in_s: float) -> None:
        self.send("waiting", reason, retry_in_s)

    def stalled(self, silent_s: float) -> None:
        self.send("stalled", silent_s)


_loop: asyncio.AbstractEventLoop | None = None


def run_step(spec: StepSpec, base_bundle: bytes) -> StepResult:
    """The Ray task: one step, in a clone on this node.

    One event loop (and its thread pool) per Ray worker process, kept between steps: a new
    one per step would start and join threads every time.
    """
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(_step(spec, base_bundle))


async def _step(spec: StepSpec, base_bundle: bytes) -> StepResult:
    import ray

    started = time.perf_counter()
    relay = BatchReporter(spec.relay, spec.token)
    async with relay.pumping():
        clone, built = await asyncio.to_thread(_clone_for, spec, base_bundle)
        node = ray.get_runtime_context().get_node_id()
        relay.send("placed", node, os.getpid(), str(clone), built)
        agent_dir = clone.parent / "agent"
        agent_dir.mkdir(mode=0o700, exist_ok=True)
        sandbox = _confined(spec.sandbox, clone, agent_dir)
        result = None
        if spec.worker is not None and spec.job is not None:
            job = replace(spec.job, worktree=clone, agent_dir=agent_dir, sandbox=sandbox)
            result = await _run_agent(spec.worker, job, relay)
        snapshot, pack = None, None
        if spec.worker is not None:
            snapshot, pack = await asyncio.to_thread(_snapshot, Workspace.open(clone), spec)
        tests = None
        if spec.test_command and (snapshot is not None or spec.worker is None):
            env = dict(spec.test_env)
            timeout = spec.test_timeout_s
            tests = await run_tests(spec.test_command, clone, timeout, env=env, sandbox=sandbox)
        (clone / ".git" / MARKER).write_text(spec.token)
    return StepResult(
        token=spec.token, node=node, pid=os.getpid(), workdir=str(clone), built=built,
        result=result, snapshot=snapshot, pack=pack, tests=tests,
        try_id=relay.try_id, batches=relay.sent, tail=relay.take(),
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def _confined(sandbox: Sandbox | None, clone: Path, agent_dir: Path) -> Sandbox | None:
    """The head's sandbox for this node: the clone and the agent's folder read-write (the
    clone's .git read-only: the run commits), every other clone on the node hidden."""
    if sandbox is None:
        return None
    every_clone = clone.parents[2]  # maestro-ray/, of every run
    return replace(sandbox, writable=(clone, agent_dir), hidden=(*sandbox.hidden, every_clone))


async def _run_agent(worker: Worker, job: WorkerJob, relay: BatchReporter) -> WorkerResult:
    """The agent in its clone, its file changes reported as the watcher sees them."""

    def changed(path: str, change: str) -> None:
        relay.send("changed", path, change)

    async with watching(job.worktree, changed):
        return await worker.run(job, relay)


def _clone_for(spec: StepSpec, base_bundle: bytes) -> tuple[Path, bool]:
    """The clone the step before finished in, on this node; else a new one from the bundles.

    A step Ray runs again (its worker or node died) never finds the clone of the try it
    replaces finished, so it starts from a fresh clone, not from half of someone's work.
    """
    home = attempt_dir(spec.run_id, spec.label, spec.attempt)
    current = _finished_clone(home, spec.after)
    if current is not None:
        # Not finished any more: a try of this step that dies leaves it half-changed.
        (current / ".git" / MARKER).write_text(f"running {spec.token}")
        if spec.reset:
            _put_files(current, spec)
        return current, False
    clone = home / f"wc-{uuid.uuid4().hex[:8]}"  # never the dir a lost try may still write
    clone_bundle(base_bundle, clone, "maestro-attempt")
    _put_files(clone, spec)
    return clone, True


def _finished_clone(home: Path, token: str) -> Path | None:
    if not token:
        return None
    for clone in _clones(home):
        marker = clone / ".git" / MARKER
        if marker.is_file() and marker.read_text() == token:
            return clone
    return None


def _clones(home: Path) -> Iterator[Path]:
    return iter(sorted(home.glob("wc-*"))) if home.is_dir() else iter(())


def _put_files(clone: Path, spec: StepSpec) -> None:
    """The files of `state` in the clone; HEAD stays at the base, so the commit squashes
    everything since it."""
    ws = Workspace.open(clone)
    if spec.delta is not None:
        unbundle(ws.git, spec.delta)
    ws.git("read-tree", "-u", "--reset", spec.state)


def _snapshot(ws: Workspace, spec: StepSpec) -> tuple[CommitInfo | None, bytes | None]:
    """The agent's work since the base as one commit (the head writes the real message), and
    a pack of it beyond the base."""
    info = ws.commit_all(ws.root, spec.base, "maestro: snapshot", "", {}, spec.exclude)
    if info is None:
        return None, None
    ws.git("update-ref", "HEAD", spec.base)  # the next round squashes since the base too
    return info, make_bundle(ws.git, info.sha, "refs/heads/snapshot", [spec.base])


def drop_clones(run_id: str, label: str, attempt: int) -> None:
    """The Ray task that removes an attempt's clones from this node."""
    home = attempt_dir(run_id, label, attempt)
    shutil.rmtree(home, ignore_errors=True)
    with contextlib.suppress(OSError):  # the run's folder, once its last attempt is gone
        home.parent.rmdir()
