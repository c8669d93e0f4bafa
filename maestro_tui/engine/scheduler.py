"""Scheduler: runs a plan's DAG with a live concurrency limit, retries, timeouts and cancellation.

It knows nothing of git or models: each attempt is a coroutine supplied by the run, which
returns how the task ended up (its work merged, in the merge gate, held for review, or
rejected) or raises to fail the attempt. A task that is GATED or HELD holds no agent slot;
whoever decides it later calls `release` (or `retry` to run it again). Everything the
scheduler decides is an event on the bus.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from maestro_tui.domain import events as ev
from maestro_tui.domain.dag import critical_path_lengths, dependents_of
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.engine.bus import EventBus


class Outcome(Enum):
    """How a task stands once an attempt has returned."""

    SATISFIED = "satisfied"  # merged, or nothing to merge: dependents may start
    GATED = "gated"  # its result is being tested as merged; dependents and the run wait
    HELD = "held"  # waiting for the human; dependents wait too (a headless run may end)
    DEAD = "dead"  # failed, rejected, blocked or cancelled: dependents are blocked


AttemptFn = Callable[[Task, int], Awaitable[Outcome]]
UNDECIDED = (Outcome.GATED, Outcome.HELD)  # no agent works on it, and it is not settled
SETTLED = (Outcome.SATISFIED, Outcome.DEAD)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 1  # further attempts after the first
    backoff_s: float = 2.0
    backoff_cap_s: float = 60.0
    timeout_s: float | None = None

    def delay(self, attempt: int) -> float:
        doubled: float = self.backoff_s * 2 ** (attempt - 1)  # mypy: int ** int is Any
        return min(self.backoff_cap_s, doubled)


class Scheduler:
    """Dispatches ready tasks, longest remaining chain first, at most `max_agents` at a time."""

    def __init__(
        self,
        bus: EventBus,
        plan: Plan,
        attempt: AttemptFn,
        *,
        max_agents: int = 4,
        policy: RetryPolicy | None = None,
        initial: Mapping[str, Outcome] | None = None,
        attempts_done: Mapping[str, int] | None = None,
    ) -> None:
        self._bus = bus
        self._attempt_fn = attempt
        self._policy = policy or RetryPolicy()
        self._limit = max_agents
        self._wait_for_review = False  # each run says
        self._wake = asyncio.Event()
        self.load(plan, initial, attempts_done)

    def load(
        self,
        plan: Plan,
        initial: Mapping[str, Outcome] | None = None,
        attempts_done: Mapping[str, int] | None = None,
    ) -> None:
        """Take the plan of the next `run` and where its tasks stand (a run goes on after a
        revision with the new plan): what an earlier run left is forgotten, and dispatch is
        neither paused nor stopped."""
        self._plan = plan
        graph = plan.graph()
        self._dependents = dependents_of({t.id: t.depends_on for t in plan.tasks})
        # Tasks ordered after another for an overlap (Task.after) wait for it to settle,
        # whatever its outcome: its failure does not block them.
        self._followers = dependents_of({t.id: t.after for t in plan.tasks})
        self._priority = critical_path_lengths(graph)
        self._order = {t.id: i for i, t in enumerate(plan.tasks)}
        self._outcome: dict[str, Outcome] = dict(initial or {})
        self._attempts: dict[str, int] = dict(attempts_done or {})
        self._missing = {
            t.id: sum(1 for d in t.depends_on if self._outcome.get(d) is not Outcome.SATISFIED)
            + sum(1 for a in t.after if self._outcome.get(a) not in SETTLED)
            for t in plan.tasks
        }
        self._ready: list[tuple[float, int, str]] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._backing_off: dict[str, asyncio.TimerHandle] = {}
        self._aborted: dict[str, str] = {}  # running task -> why it is failed now, for good
        self._requeued: dict[str, str] = {}  # running task -> why it goes back to the queue
        self._paused = False
        self._stopped = False  # no new dispatch at all (budget spent, run cancelled)
        self._started = False  # before run(), decisions only record outcomes; run() enqueues
        # Decided (released or sent back) before its attempt had returned GATED: done after.
        self._early: dict[str, Callable[[], None]] = {}

    # --- commands (come back as events) ------------------------------------------------------

    @property
    def max_agents(self) -> int:
        return self._limit

    @property
    def paused(self) -> bool:
        return self._paused

    def set_max_agents(self, n: int) -> None:
        if n < 1:
            raise ValueError("concurrency must be at least 1")
        self._limit = n
        self._bus.emit(ev.ConcurrencyChanged, max_agents=n)
        self._wake.set()

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            self._bus.emit(ev.DispatchPaused)

    def unpause(self) -> None:
        if self._paused:
            self._paused = False
            self._bus.emit(ev.DispatchResumed)
            self._wake.set()

    def stop_dispatch(self) -> None:
        """Start nothing new (budget spent); running attempts go on."""
        self._stopped = True
        self._wake.set()

    def allow_dispatch(self) -> None:
        self._stopped = False
        self._wake.set()

    def abort(self, task_id: str, reason: str) -> None:
        """Fail a running attempt now, with no retry (it went over its own budget)."""
        running = self._running.get(task_id)
        if running is not None and task_id not in self._aborted:
            self._aborted[task_id] = reason
            running.cancel()

    def interrupt_running(self, reason: str) -> None:
        """Stop every running attempt and queue its task again (the run's budget is spent)."""
        for task_id, running in self._running.items():
            self._requeued[task_id] = reason
            running.cancel()

    def cancel_task(self, task_id: str, reason: str = "cancelled by the user") -> bool:
        """Cancel a task that has not settled; its dependents are blocked. False if settled."""
        if task_id not in self._plan.by_id:
            raise KeyError(task_id)
        if task_id in self._outcome and self._outcome[task_id] not in UNDECIDED:
            return False
        running = self._running.pop(task_id, None)
        if running:
            running.cancel()
        timer = self._backing_off.pop(task_id, None)
        if timer:
            timer.cancel()
        self._ready = [r for r in self._ready if r[2] != task_id]
        heapq.heapify(self._ready)
        self._bus.emit(ev.TaskCancelled, task=task_id, reason=reason)
        self._settle(task_id, Outcome.DEAD, f"dependency '{task_id}' was cancelled")
        return True

    def cancel_all(self, reason: str = "run cancelled") -> None:
        """Cancel every task that has not settled, held and gated merges included."""
        self._stopped = True
        for task in self._plan.tasks:
            if self._outcome.get(task.id, Outcome.HELD) in UNDECIDED:
                self.cancel_task(task.id, reason)

    def release(self, task_id: str, outcome: Outcome, reason: str = "") -> None:
        """A gated or held task was decided: merged (SATISFIED), rejected or failed (DEAD), or
        (from the gate) held for the human (HELD). A decision that comes while its attempt is
        still returning is applied when it returns."""
        current = self._outcome.get(task_id)
        if current is None and task_id in self._running:
            self._early[task_id] = lambda: self.release(task_id, outcome, reason)
            return
        if current not in UNDECIDED or current is outcome:
            return
        del self._outcome[task_id]
        if outcome is Outcome.HELD:
            self._outcome[task_id] = outcome
            self._wake.set()
            return
        self._settle(task_id, outcome, reason or f"dependency '{task_id}' was rejected")

    def retry(self, task_id: str) -> None:
        """Run a held or gated task again as a new attempt (its dependents keep waiting)."""
        if task_id in self._running and task_id not in self._outcome:
            self._early[task_id] = lambda: self.retry(task_id)
            return
        if self._outcome.get(task_id) not in UNDECIDED:
            raise ValueError(f"task '{task_id}' is not waiting for review or in the merge gate")
        del self._outcome[task_id]
        self._enqueue(task_id)
        self._wake.set()

    # --- the loop --------------------------------------------------------------------------

    async def run(self, *, wait_for_review: bool = False) -> Mapping[str, Outcome]:
        """Run until every task is settled, or only held tasks remain (unless waiting for them);
        gated tasks are always waited for."""
        self._wait_for_review = wait_for_review
        self._started = True
        for task in self._plan.tasks:
            if task.id in self._outcome:
                continue
            dead = [d for d in task.depends_on if self._outcome.get(d) is Outcome.DEAD]
            if dead:
                self._block(task.id, dead[0], f"dependency '{dead[0]}' did not succeed")
            elif self._missing[task.id] == 0:
                self._enqueue(task.id)
        try:
            while True:
                self._dispatch()
                if self._finished():
                    return dict(self._outcome)
                self._wake.clear()
                await self._wake.wait()
        finally:
            await self._cancel_running()

    def _finished(self) -> bool:
        if self._running or self._backing_off:
            return False
        if any(o is Outcome.GATED for o in self._outcome.values()):
            return False
        if self._ready and not self._stopped:
            return False
        if self._wait_for_review and any(o is Outcome.HELD for o in self._outcome.values()):
            return False
        return True

    def _dispatch(self) -> None:
        while (
            self._ready
            and not self._paused
            and not self._stopped
            and len(self._running) < self._limit
        ):
            _, _, task_id = heapq.heappop(self._ready)
            self._running[task_id] = asyncio.create_task(self._run_task(task_id), name=task_id)

    def _enqueue(self, task_id: str) -> None:
        if not self._started:  # run() enqueues every ready task when it starts
            return
        priority = self._priority.get(task_id, 0.0)
        heapq.heappush(self._ready, (-priority, self._order[task_id], task_id))
        self._bus.emit(ev.TaskQueued, task=task_id, priority=priority)

    async def _run_task(self, task_id: str) -> None:
        task = self._plan.by_id[task_id]
        attempt = self._attempts.get(task_id, 0) + 1
        self._attempts[task_id] = attempt
        try:
            if self._policy.timeout_s:
                async with asyncio.timeout(self._policy.timeout_s):
                    outcome = await self._attempt_fn(task, attempt)
            else:
                outcome = await self._attempt_fn(task, attempt)
        except asyncio.CancelledError:
            if task_id in self._aborted:
                self._running.pop(task_id, None)
                reason = self._aborted.pop(task_id)
                self._bus.emit(ev.TaskFailed, task=task_id, attempt=attempt, reason=reason)
                self._settle(task_id, Outcome.DEAD, f"dependency '{task_id}' failed: {reason}")
                return
            if task_id in self._requeued:
                self._running.pop(task_id, None)
                reason = self._requeued.pop(task_id)
                self._bus.emit(
                    ev.TaskFailed, task=task_id, attempt=attempt, reason=reason, retry_in_s=0.0
                )
                self._enqueue(task_id)
                return
            if self._running.get(task_id) is asyncio.current_task():
                # Cancelled from outside (run shutdown): leave the task unsettled for resume.
                self._running.pop(task_id, None)
            raise
        except TimeoutError:
            self._fail(task_id, attempt, f"timed out after {self._policy.timeout_s:g} s")
        except Exception as exc:  # the attempt failed; any error is the task's, not the run's
            self._fail(task_id, attempt, str(exc) or type(exc).__name__)
        else:
            self._running.pop(task_id, None)
            self._settle(task_id, outcome, f"dependency '{task_id}' did not succeed")
            early = self._early.pop(task_id, None)
            if early is not None and outcome is Outcome.GATED:
                early()
        finally:
            self._wake.set()

    def _fail(self, task_id: str, attempt: int, reason: str) -> None:
        self._running.pop(task_id, None)
        if attempt <= self._policy.retries and not self._stopped:
            delay = self._policy.delay(attempt)
            self._bus.emit(
                ev.TaskFailed, task=task_id, attempt=attempt, reason=reason, retry_in_s=delay
            )
            loop = asyncio.get_running_loop()
            self._backing_off[task_id] = loop.call_later(delay, self._retry, task_id)
        else:
            self._bus.emit(ev.TaskFailed, task=task_id, attempt=attempt, reason=reason)
            self._settle(task_id, Outcome.DEAD, f"dependency '{task_id}' failed: {reason}")

    def _retry(self, task_id: str) -> None:
        if self._backing_off.pop(task_id, None) is not None:
            self._enqueue(task_id)
            self._wake.set()

    def _settle(self, task_id: str, outcome: Outcome, reason: str) -> None:
        self._outcome[task_id] = outcome
        if outcome is Outcome.SATISFIED:
            for child in self._dependents[task_id]:
                self._one_less(child)
            self._release_followers(task_id)
        elif outcome is Outcome.DEAD:
            for child in self._dependents[task_id]:
                if child not in self._outcome:
                    self._block(child, task_id, reason)
            self._release_followers(task_id)
        self._wake.set()

    def _one_less(self, task_id: str) -> None:
        self._missing[task_id] -= 1
        if self._missing[task_id] == 0 and task_id not in self._outcome:
            self._enqueue(task_id)

    def _release_followers(self, task_id: str) -> None:
        for follower in self._followers[task_id]:
            self._one_less(follower)

    def _block(self, task_id: str, blocked_by: str, reason: str) -> None:
        """Block a task and everything downstream of it, depth first, without recursion (a
        failure at the head of a long chain must not hit the recursion limit)."""
        stack = [task_id]
        while stack:
            node = stack.pop()
            if node in self._outcome:
                continue
            self._outcome[node] = Outcome.DEAD
            self._bus.emit(ev.TaskBlocked, task=node, blocked_by=blocked_by, reason=reason)
            stack.extend(reversed(self._dependents[node]))
            self._release_followers(node)

    async def _cancel_running(self) -> None:
        for timer in self._backing_off.values():
            timer.cancel()
        self._backing_off.clear()
        tasks = list(self._running.values())
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
