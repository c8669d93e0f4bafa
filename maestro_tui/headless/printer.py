"""One readable line per event, or one JSON object per line (--json), as a run goes on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from maestro_tui.domain import events as ev


def _short(sha: str | None) -> str:
    return (sha or "")[:9]


def _money(value: float | None) -> str:
    return "unknown cost" if value is None else f"${value:.4f}"


def _tests(e: ev.TestsRan) -> str:
    counts = []
    if e.n_passed is not None:
        counts.append(f"{e.n_passed} passed")
    if e.n_failed:
        counts.append(f"{e.n_failed} failed")
    detail = f" ({', '.join(counts)})" if counts else ""
    verdict = "passed" if e.passed else f"FAILED, exit {e.exit_code}"
    return f"tests {verdict}{detail} in {e.duration_s:.1f}s"


def _gate_verdict(e: ev.MergeTested) -> str:
    if e.cancelled:
        return "test stopped (a result ahead failed): queued again"
    counts = [f"{e.n_passed} passed"] if e.n_passed is not None else []
    counts += [f"{e.n_failed} failed"] if e.n_failed else []
    detail = f" ({', '.join(counts)})" if counts else ""
    verdict = "merged tree passes" if e.passed else "merged tree FAILS"
    flaky = f"; flaky: {', '.join(e.flaky)}" if e.flaky else ""
    return f"{verdict}{detail} in {e.duration_s:.1f}s{flaky}"


_FORMAT: dict[type[ev.Event], Callable[[Any], str]] = {
    ev.RunStarted: lambda e: (
        f"run {e.run_id} started on {e.base_branch} ({_short(e.base_commit)}) → "
        f"{e.integration_branch}, merge policy {e.merge_policy}, {e.max_agents} agents"
    ),
    ev.PlanProposed: lambda e: (
        f"plan: {len(e.plan.get('tasks', []))} tasks in {len(e.layers)} layers"
        + "".join(
            f"\n        layer {i + 1}: {', '.join(layer)}" for i, layer in enumerate(e.layers)
        )
    ),
    ev.PlanApproved: lambda e: "plan approved",
    ev.PlanRevised: lambda e: (
        f"plan revised: {', '.join(e.added)}"
        + (f" (superseding {', '.join(e.superseded)})" if e.superseded else "")
        + (f" — {e.reason}" if e.reason else "")
    ),
    ev.RunResumed: lambda e: (
        "run resumed"
        + (f"; restarting interrupted {', '.join(e.interrupted)}" if e.interrupted else "")
    ),
    ev.RunPaused: lambda e: f"run paused ({e.reason})" if e.reason else "run paused",
    ev.DispatchPaused: lambda e: "dispatch paused",
    ev.DispatchResumed: lambda e: "dispatch resumed",
    ev.ConcurrencyChanged: lambda e: f"concurrency set to {e.max_agents}",
    ev.RunFinished: lambda e: (
        f"run finished: {e.status} — {e.merged} merged, {e.failed} failed, {e.waiting} waiting"
    ),
    ev.TaskQueued: lambda e: f"[{e.task}] ready",
    ev.TaskStarted: lambda e: f"[{e.task}] started attempt {e.attempt} with {e.worker}",
    ev.AgentOutput: lambda e: f"[{e.task}] {'!' if e.stream == 'stderr' else '|'} {e.text}",
    ev.AttemptPlaced: lambda e: (
        f"[{e.task}] {e.step} on ray node {e.node[:12]}, pid {e.pid}"
        + (f" (candidate {e.candidate})" if e.candidate else "")
        + (", cloned from a bundle" if e.built else "")
    ),
    ev.ToolCalled: lambda e: (
        f"[{e.task}] tool {e.tool}({e.args})" + ("" if e.ok else f" refused: {e.error}")
    ),
    ev.FileChanged: lambda e: f"[{e.task}] {e.change} {e.path}",
    ev.AgentSession: lambda e: (
        f"[{e.task}] {'resumed' if e.resumed else 'started'} session {e.session_id}"
        + (f" of {e.worker}" if e.worker else "")
    ),
    ev.TaskWaiting: lambda e: f"[{e.task}] waits: {e.reason}; trying again in {e.retry_in_s:g}s",
    ev.TaskStalled: lambda e: (
        f"[{e.task}] STALLED: no output for {e.silent_s:.0f}s; stopping its agent"
    ),
    ev.FindingPublished: lambda e: f"[{e.task}] finding: {e.text}",
    ev.TaskCommitted: lambda e: (
        f"[{e.task}] committed {_short(e.commit)}: {len(e.files)} files, "
        f"+{e.insertions} -{e.deletions}"
    ),
    ev.TestsRan: lambda e: f"[{e.task}] {_tests(e)}",
    ev.TaskFixing: lambda e: f"[{e.task}] sent back to its agent (round {e.round}): {e.reason}",
    ev.CriticVerdict: lambda e: (
        f"[{e.task}] critic "
        + ("approves" if e.approved else "asks for changes")
        + (f": {e.comments}" if e.comments else "")
    ),
    ev.CandidateFinished: lambda e: (
        f"[{e.task}] candidate {e.candidate} "
        + (f"failed: {e.error}" if e.error else f"done, {e.lines_changed} lines")
        + ("" if e.tests_passed is None else (", tests pass" if e.tests_passed else ", tests FAIL"))
    ),
    ev.CandidateSelected: lambda e: (
        f"[{e.task}] picked candidate {e.candidate} by {e.method}"
        + (f": {e.reason}" if e.reason else "")
    ),
    ev.TaskFinished: lambda e: (
        f"[{e.task}] finished"
        + ("" if e.commit else " with no changes")
        + (f": {e.summary.strip().splitlines()[0]}" if e.summary.strip() else "")
    ),
    ev.TaskFailed: lambda e: (
        f"[{e.task}] attempt {e.attempt} failed: {e.reason}"
        + (f"; retrying in {e.retry_in_s:g}s" if e.retry_in_s is not None else "")
    ),
    ev.TaskBlocked: lambda e: f"[{e.task}] blocked: {e.reason}",
    ev.TaskCancelled: lambda e: f"[{e.task}] cancelled" + (f": {e.reason}" if e.reason else ""),
    ev.MergeQueued: lambda e: (
        f"[{e.task}] in merge queue ({e.files_changed} files, {e.lines_changed} lines)"
    ),
    ev.MergeConflict: lambda e: f"[{e.task}] CONFLICT in {', '.join(e.files)}",
    ev.MergeWaiting: lambda e: f"[{e.task}] waiting for review: {'; '.join(e.reasons)}",
    ev.MergeApproved: lambda e: (
        f"[{e.task}] merge approved" + (f" taking {e.resolution}" if e.resolution else "")
    ),
    ev.MergeRejected: lambda e: f"[{e.task}] merge rejected: {e.reason}",
    ev.Merged: lambda e: f"[{e.task}] merged → {_short(e.commit)}",
    ev.MergeTesting: lambda e: (
        f"[{', '.join(e.tasks)}] gate: testing {'again ' if e.retest else ''}as merged"
        + (f" on top of {', '.join(e.prefix[: -len(e.tasks)])}" if e.speculative else "")
        + f" ({_short(e.commit)})"
    ),
    ev.MergeTested: lambda e: f"[{', '.join(e.tasks)}] gate: {_gate_verdict(e)}",
    ev.RunConfigured: lambda e: f"settings recorded ({len(e.workers)} tasks' workers)",
    ev.RerunOf: lambda e: (
        f"re-run of {e.source}: {len(e.rerun)} task(s) run again, {len(e.taken_over)} taken"
        " over" + (f"; changed: {', '.join(e.changes)}" if e.changes else "")
    ),
    ev.TaskTakenOver: lambda e: f"[{e.task}] taken over from {e.source} as it merged",
    ev.BaseTested: lambda e: (
        f"base {_short(e.commit)} tested before the run: {'green' if e.passed else 'RED'}"
        + (f" ({e.n_passed} passed, {e.n_failed} failed)" if e.n_passed is not None else "")
        + f" in {e.duration_s:.1f}s"
        + (f"; the gate tests {e.gate_width} merged trees at once" if e.gate_width else "")
    ),
    ev.BaseRed: lambda e: (
        f"integration branch is RED at {_short(e.commit)}"
        + (f" ({e.n_failed} failed)" if e.n_failed else "")
        + (f", found by {e.found_by}" if e.found_by else "")
        + ": failures it shares are not charged to tasks"
    ),
    ev.GateSkipped: lambda e: f"gate off: {e.reason}",
    ev.LLMUsage: lambda e: (
        f"[{e.task or 'planner'}] {e.model}: {e.tokens_in} in / {e.tokens_out} out, "
        f"{_money(e.cost_usd)}{' (simulated)' if e.simulated else ''}"
    ),
    ev.BudgetWarning: lambda e: f"budget warning: {e.kind} {e.used:g} of {e.limit:g} used",
    ev.BudgetExceeded: lambda e: (
        f"budget exhausted: {e.kind} {e.used:g} of {e.limit:g}; no new task starts"
    ),
    ev.BudgetRaised: lambda e: f"budget raised: {e.kind} limit {e.limit:g}",
    ev.SteerSent: lambda e: f"[{e.task}] » you ({e.source}): {e.text} — it takes it {e.delivery}",
    ev.SteerDelivered: lambda e: f"[{e.task}] » delivered to the agent: {e.text}",
    ev.NotifyFailed: lambda e: f"notifications through {e.channel} failed: {e.error}",
}


def format_event(event: ev.Event) -> str:
    """One human line for an event: elapsed time, then what happened."""
    fmt = _FORMAT.get(type(event))
    text = fmt(event) if fmt else f"{event.type} {event.to_json()}"
    return f"{event.ts:7.1f}s  {text}"


class Printer:
    """A bus subscriber that writes each event to a stream as it happens."""

    def __init__(self, stream: TextIO, *, as_json: bool = False, show_output: bool = True) -> None:
        self._stream = stream
        self._json = as_json
        self._show_output = show_output

    def __call__(self, event: ev.Event) -> None:
        if not self._show_output and isinstance(event, ev.AgentOutput):
            return
        line = event.to_json() if self._json else format_event(event)
        self._stream.write(line + "\n")
        self._stream.flush()


@dataclass
class Output:
    """Where and how a headless command writes: lines for people, or JSON for tools."""

    stream: TextIO = sys.stdout
    as_json: bool = False
    show_output: bool = True

    def say(self, text: str) -> None:
        """A line for a person; nothing in JSON mode, where only events are printed."""
        if not self.as_json:
            print(text, file=self.stream, flush=True)

    def printer(self) -> Printer:
        return Printer(self.stream, as_json=self.as_json, show_output=self.show_output)

    def planning(self) -> PlanningLines:
        """The planner's progress as lines: what it reads (its text and tokens are in the
        plan and the run's usage)."""
        return PlanningLines(self.say)


class PlanningLines:
    """A PlanningProgress that prints one line per thing the planner reads."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say

    def said(self, text: str) -> None:
        pass

    def read(self, what: str) -> None:
        self._say(f"planner read {what}")

    def spent(self, tokens_in: int, tokens_out: int, cost_usd: float | None) -> None:
        pass
