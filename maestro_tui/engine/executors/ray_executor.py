"""The Ray executor: each attempt's steps run as Ray tasks on any node of a cluster.

The head (this process) keeps the repository, the merge queue, the store and the UI. A step
gets the base commit as a git bundle (put in Ray's object store once per base) and returns the
agent's commit as one, which the head fetches into the task branch under the message the
runner writes. What the agent prints comes back live through one `ray.util.queue.Queue`, and
becomes the same events a local run has. A step whose worker process or node dies is run again
by Ray (`max_retries`), elsewhere if need be: the head sees one result, so one commit and one
merge. Ray is imported here, lazily, and only when [executor] kind = "ray".
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from maestro_tui.agents.base import Reporter, Worker, WorkerError, WorkerJob, WorkerResult
from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.executors.base import OnChange, WorkingCopy
from maestro_tui.engine.executors.ray_join import import_ray, join, knock
from maestro_tui.engine.executors.ray_node import (
    Message,
    StepResult,
    StepSpec,
    attempt_dir,
    drop_clones,
    run_step,
)
from maestro_tui.process import LineSink, Sandbox
from maestro_tui.workspace.bundle import fix_start, make_bundle, unbundle
from maestro_tui.workspace.plumbing import commit_message, commit_tree
from maestro_tui.workspace.repo import CommitInfo, Workspace
from maestro_tui.workspace.validate import TestResult

KEEP_BASES = 4  # the bases whose bundles stay in the object store for the next attempts
END_WAIT_S = 10.0  # how long a finished step's messages may take to arrive
DROP_WAIT_S = 30.0  # for the clones' removal at the end (a node may first start a worker)
FAILED_WAIT_S = 2.0  # and a failed one's, which may have died before sending them
_REPORTS = frozenset(
    ("output", "usage", "tool", "finding", "file_changed", "session", "waiting", "stalled")
)


@dataclass
class _Sink:
    """Where one step's messages go on the head."""

    placed: Any  # (node, pid, workdir, built) -> None
    report: Reporter | None
    on_change: OnChange | None
    batches: dict[str, int] = field(default_factory=dict)  # per try of the step
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    def deliver(self, try_id: str, batch: list[Message]) -> None:
        try:
            for kind, args, kwargs in batch:
                if kind == "end":
                    self.ended = True
                elif kind == "placed":
                    self.placed(*args)
                elif kind == "changed":
                    if self.on_change is not None:
                        self.on_change(*args)
                elif kind in _REPORTS and self.report is not None:
                    getattr(self.report, kind)(*args, **kwargs)
        finally:  # counted even if a message could not be shown: the step must not wait
            self.batches[try_id] = self.batches.get(try_id, 0) + 1
            self.arrived.set()

    async def wait(self, done: Callable[[], bool], timeout_s: float) -> None:
        """Until `done()`, checked as batches arrive; at most `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not done():
                    self.arrived.clear()
                    await self.arrived.wait()

    async def finish(self, out: StepResult) -> None:
        """Every batch the finished try sent, then what came with its result: in order."""
        await self.wait(lambda: self.batches.get(out.try_id, 0) >= out.batches, END_WAIT_S)
        self.deliver(out.try_id, out.tail)


class RayExecutor:
    """Attempts on a Ray cluster; see the module docstring."""

    def __init__(self, ws: Workspace, config: Config, bus: EventBus, ray: Any, owns: bool):
        self.ws, self.config, self.bus, self.ray = ws, config, bus, ray
        self._owns = owns  # this executor started Ray here, and shuts it down
        self._bases: dict[str, asyncio.Task[Any]] = {}
        self._sinks: dict[str, _Sink] = {}
        self._drops: set[Any] = set()
        self.step = ray.remote(run_step)
        self.drop = ray.remote(drop_clones)
        from ray.util.queue import Queue

        # The relay lives on the head node, which a run outlives only if the cluster does: on
        # a node that dies mid-attempt, it took every later step's output with it.
        head = {"node:__internal_head__": 0.001}  # Ray's own resource of the head node
        self.relay = Queue(actor_options={"num_cpus": 0, "resources": head})
        self._pump = asyncio.create_task(self._deliver())

    @classmethod
    async def connect(cls, ws: Workspace, config: Config, bus: EventBus) -> RayExecutor:
        """Join the cluster of [executor] address; ExecutorError saying what to do if not."""
        ray = import_ray()
        address = config.executor_address
        owns = not ray.is_initialized()
        if owns:
            await asyncio.to_thread(knock, address)
            join(ray, address)  # on the main thread, where Ray sets its signal handlers
        try:
            return cls(ws, config, bus, ray, owns)
        except BaseException:
            if owns:
                await asyncio.to_thread(ray.shutdown)
            raise

    def on(self, node: str, soft: bool = True) -> Any:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return NodeAffinitySchedulingStrategy(node, soft=soft)

    async def open(self, run_id: str, label: str, attempt: int, base: str) -> WorkingCopy:
        branch = self.ws.task_branch(run_id, label)
        await asyncio.to_thread(self.ws.git, "update-ref", f"refs/heads/{branch}", base)
        return RayCopy(self, run_id, label, attempt, base)

    async def base_bundle(self, base: str) -> Any:
        """The base as a bundle in Ray's object store: made and sent once per base."""
        if base not in self._bases:

            async def put() -> Any:
                data = await asyncio.to_thread(make_bundle, self.ws.git, base, "refs/heads/base")
                return self.ray.put(data)

            self._bases[base] = asyncio.create_task(put())
            while len(self._bases) > KEEP_BASES:  # Ray frees a bundle once no step holds it
                del self._bases[next(iter(self._bases))]
        return await self._bases[base]

    def resources(self, worker: Worker | None) -> dict[str, float]:
        spec = self.config.workers.get(worker.name) if worker is not None else None
        return {**self.config.executor_resources, **(spec.resources if spec else {})}

    async def _deliver(self) -> None:
        """The head's end of the relay: each batch to its step's sink, in order."""
        while True:
            key, try_id, batch = await self.relay.get_async(block=True, timeout=None)
            sink = self._sinks.get(key)
            if sink is not None:
                with contextlib.suppress(Exception):  # one bad message must not stop the rest
                    sink.deliver(try_id, batch)

    @contextlib.asynccontextmanager
    async def listening(self, key: str, sink: _Sink) -> AsyncIterator[_Sink]:
        self._sinks[key] = sink
        try:
            yield sink
        finally:
            del self._sinks[key]

    async def remote(self, ref: Any, what: str) -> StepResult:
        """A step's result; its own errors as they were raised, a lost one as WorkerError."""
        exceptions = self.ray.exceptions
        try:
            return await ref  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            self.ray.cancel(ref, force=True)
            raise
        except exceptions.RayTaskError as exc:
            cause = exc.cause
            raise (cause if isinstance(cause, Exception) else WorkerError(str(exc))) from None
        except exceptions.RayError as exc:  # the worker or node died, after every retry
            raise WorkerError(
                f"{what} was lost on the Ray cluster {self.config.executor_max_retries + 1}"
                f" time(s): {str(exc)[:500]}"
            ) from exc

    def forget(self, node: str, run_id: str, label: str, attempt: int) -> None:
        """Remove an attempt's clones on the node that has them, without waiting."""
        options = {"num_cpus": 0, "max_retries": 0, "scheduling_strategy": self.on(node, False)}
        self._drops.add(self.drop.options(**options).remote(run_id, label, attempt))

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):  # Ray drops a job's tasks when its driver leaves
            drops = asyncio.gather(*self._drops, return_exceptions=True)
            await asyncio.wait_for(drops, DROP_WAIT_S)
        self._pump.cancel()
        with contextlib.suppress(BaseException):
            await self._pump
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.relay.shutdown, True)
        if self._owns:
            await asyncio.to_thread(self.ray.shutdown)


class RayCopy:
    """One attempt's clone on some node: where it is, and the commit its files should hold if
    a step has to build it again."""

    def __init__(self, ex: RayExecutor, run_id: str, label: str, attempt: int, base: str):
        self.ex = ex
        self.run_id, self.label, self.attempt, self.base = run_id, label, attempt, base
        self.path = attempt_dir(run_id, label, attempt)  # on whichever node runs it
        self.shown = ""  # AttemptPlaced says where, once a node has it
        self.steerable = False  # a mailbox does not travel to the node (yet)
        self.env: Mapping[str, str] = {}
        self.state = base
        self.reset = False
        self.after = ""  # the token of the last step that finished
        self.node = ""
        self.last: StepResult | None = None
        self.task: str = label
        self.candidate: int | None = None
        self.on_change: OnChange | None = None

    async def prepare(
        self, env: Mapping[str, str], sandbox: Sandbox | None, on_line: LineSink
    ) -> None:
        """[worktree] is not applied on a node's clone (yet): said in the task's log."""
        c = self.ex.config
        if c.worktree_copy or c.worktree_setup:
            on_line("[maestro] [worktree] copy/setup are not applied on Ray nodes", "setup")

    async def check_out_merge(self, onto: str, commit: str) -> tuple[str, ...]:
        self.state, marked = await asyncio.to_thread(fix_start, self.ex.ws.git, onto, commit)
        self.reset = True
        return marked

    @contextlib.asynccontextmanager
    async def watching(self, on_change: OnChange) -> AsyncIterator[None]:
        self.on_change = on_change  # the node watches the clone; its changes come back here
        try:
            yield
        finally:
            self.on_change = None

    async def run(self, worker: Worker, job: WorkerJob, report: Reporter) -> WorkerResult:
        self.task, self.candidate = job.task.id, job.candidate
        # The mailbox and the agent's folder are this machine's; the node makes its own folder.
        job = replace(job, mailbox=None, agent_dir=None)
        out = await self._step("work", report, worker, job, tuple(job.env.items()))
        assert out.result is not None
        return out.result

    async def commit(
        self,
        base: str,
        subject: str,
        body: str,
        trailers: Mapping[str, str],
        exclude: Sequence[str] = (),  # applied on the node, from [run] exclude
    ) -> CommitInfo | None:
        """The node's snapshot of the agent's work, under the runner's message, on the task
        branch here."""
        last = self.last
        snap = last.snapshot if last is not None else None
        if last is None or snap is None or last.pack is None:
            return None
        pack, git = last.pack, self.ex.ws.git
        branch = self.ex.ws.task_branch(self.run_id, self.label)

        def write() -> str:
            unbundle(git, pack)  # the node's commit, fetched
            tree = git("rev-parse", f"{snap.sha}^{{tree}}").out.strip()
            sha = commit_tree(git, tree, [base], commit_message(subject, body, trailers))
            git("update-ref", "-m", "maestro: commit task", f"refs/heads/{branch}", sha)
            return sha

        sha = await asyncio.to_thread(write)
        self.state = sha
        return CommitInfo(sha, snap.files, snap.insertions, snap.deletions)

    async def run_tests(
        self,
        command: str,
        timeout_s: float | None,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
    ) -> TestResult:
        """The tests the work step ran on the same tree (confined as the agent was), when it
        ran these; else a step."""
        last = self.last
        if last is not None and last.tests is not None and command == self.ex.config.test_command:
            self.last = None  # each result answers once
            return last.tests
        env_items = tuple(env.items())
        out = await self._step("tests", None, None, None, env_items, command, timeout_s, sandbox)
        assert out.tests is not None
        return out.tests

    async def _step(
        self,
        step: str,
        report: Reporter | None,
        worker: Worker | None,
        job: WorkerJob | None,
        env: tuple[tuple[str, str], ...],
        command: str | None = None,
        timeout_s: float | None = None,
        sandbox: Sandbox | None = None,
    ) -> StepResult:
        ex, token = self.ex, uuid.uuid4().hex
        delta = None
        if self.state != self.base:
            git, state = ex.ws.git, self.state
            delta = await asyncio.to_thread(
                make_bundle, git, state, "refs/heads/state", [self.base]
            )
        config = ex.config
        spec = StepSpec(
            run_id=self.run_id, label=self.label, attempt=self.attempt, base=self.base,
            state=self.state, delta=delta, reset=self.reset, after=self.after, token=token,
            relay=ex.relay, exclude=tuple(config.exclude), worker=worker, job=job,
            test_command=config.test_command if command is None else command,
            test_timeout_s=config.test_timeout_s if command is None else timeout_s,
            test_env=env, sandbox=job.sandbox if job is not None else sandbox,
        )  # fmt: skip
        options: dict[str, Any] = {
            "num_cpus": config.executor_num_cpus,
            "resources": ex.resources(worker),
            "max_retries": config.executor_max_retries,
        }
        if self.node:  # the clone is there: go on in it if that node can take the step
            options["scheduling_strategy"] = ex.on(self.node)

        def placed(node: str, pid: int, workdir: str, built: bool) -> None:
            self.node = node
            ex.bus.emit(
                ev.AttemptPlaced, task=self.task, attempt=self.attempt, step=step, node=node,
                pid=pid, workdir=workdir, built=built, candidate=self.candidate,
            )  # fmt: skip

        async with ex.listening(token, _Sink(placed, report, self.on_change)) as sink:
            ref = ex.step.options(**options).remote(spec, await ex.base_bundle(self.base))
            try:
                out = await ex.remote(ref, f"the {step} step of {self.label}")
            except Exception:  # its last lines (why it failed, often) before its error
                await sink.wait(lambda: sink.ended, FAILED_WAIT_S)
                raise
            await sink.finish(out)
        self.node, self.after, self.reset, self.last = out.node, out.token, False, out
        return out

    async def close(self) -> None:
        if self.node:
            self.ex.forget(self.node, self.run_id, self.label, self.attempt)
