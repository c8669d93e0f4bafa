"""What each task of a run came to, as comparable figures: the rows of `compare` and `stats`.

Pure: events in, `TaskOutcome`s out. One outcome per task; an ensemble's task also gives one
per candidate (`candidate` ≥ 1), each on its own worker and model, so that ensembles feed the
scoreboard: the scoreboard counts candidates, never the ensemble's task as a whole, and
`compare` shows the task.

Definitions, once:

- **merged**: the task's result is in the integration branch (or it settled "done" with
  nothing to change, as a review does); a candidate is merged when it was the one picked and
  its task merged. A task "done, no changes" that was to change files is not merged.
- **first try green**: its first test run (of its first attempt) passed; None with no test
  command. A candidate's own first run is known only when its ensemble had no fix round
  (test runs do not say which candidate they are), else None.
- **fix rounds**: times tests, the critic or the gate sent the work back (every attempt).
- **interventions**: the human's decisions on it: approvals, rejections and retries of its
  merge, a candidate picked by hand, messages to its agent, cancelling it.
- **wall time**: from its first attempt's start to the event that settled it (merged,
  failed, rejected …); a candidate's, to its own end.
- **cost, tokens**: every model call of the task (the critic and judge included); a
  candidate's, the calls it made itself.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, fold
from maestro_tui.domain.views import TaskStatus, TaskView

# Outcomes stored by another version of these definitions are computed again.
OUTCOMES_VERSION = 1
# Event types the outcomes do not read (most of a run's): a store may leave them out.
NOT_READ: tuple[type[ev.Event], ...] = (ev.AgentOutput, ev.ToolCalled, ev.FileChanged)
_HUMAN = (ev.MergeApproved, ev.MergeRejected, ev.SteerSent, ev.TaskCancelled)


@dataclass(frozen=True)
class TaskOutcome:
    """One task of one run (or one ensemble candidate of it), as figures."""

    run_id: str
    task_id: str
    candidate: int = 0  # 0: the task itself; n ≥ 1: its ensemble's candidate n
    role: str = ""
    worker: str = ""
    model: str = ""  # "" when no call said (a plain command)
    status: str = "pending"  # TaskStatus value; a candidate's: its task's
    started: bool = False
    merged: bool = False
    taken_over: str = ""  # the run it was taken over from ("" = it ran in this run)
    attempts: int = 0
    first_try_green: bool | None = None
    fix_rounds: int | None = 0
    conflicts: int = 0
    interventions: int = 0
    files: int = 0
    lines: int = 0  # insertions + deletions of its result
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    simulated: bool = False
    wall_s: float | None = None
    commit: str | None = None  # its result (the task branch's commit)
    gate: str = ""  # its merged tree's verdict: "", "passed", "failed"
    gate_n_passed: int | None = None
    gate_n_failed: int | None = None

    @property
    def settled(self) -> bool:
        return TaskStatus(self.status).settled

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskOutcome:
        return cls(**data)


@dataclass
class _Task:
    """What one pass over the events gathers for one task."""

    first_ts: float | None = None
    last_ts: float | None = None
    first_tests: bool | None = None
    fixes: int = 0
    fixes_in_ensemble: int = 0
    conflicts: int = 0
    interventions: int = 0
    models: Counter[str] = field(default_factory=Counter)
    # candidate -> [tokens in, tokens out, cost, unpriced, simulated, model]
    by_candidate: dict[int, list[Any]] = field(default_factory=dict)
    candidates: dict[int, ev.CandidateFinished] = field(default_factory=dict)
    candidate_ts: dict[int, float] = field(default_factory=dict)
    picked: int | None = None
    simulated: bool = False
    unpriced: int = 0
    ensemble: bool = False


class _Pass:
    def __init__(self) -> None:
        self.tasks: dict[str, _Task] = {}
        self.workers: dict[str, str] = {}
        self.plan: dict[str, dict[str, Any]] = {}

    def task(self, task_id: str) -> _Task:
        found = self.tasks.get(task_id)
        if found is None:
            found = self.tasks[task_id] = _Task()
        return found

    def feed(self, e: ev.Event) -> None:
        if isinstance(e, ev.PlanProposed):
            self.plan = {str(t["id"]): t for t in e.plan.get("tasks", ()) if isinstance(t, dict)}
            return
        if isinstance(e, ev.RunConfigured):
            self.workers = dict(e.workers)
            return
        task_id = e.task_id
        if task_id is None:
            return
        t = self.task(task_id)
        if isinstance(e, ev.TaskStarted):
            if t.first_ts is None:
                t.first_ts = e.ts
            t.ensemble = t.ensemble or e.worker.startswith("ensemble of")
        elif isinstance(e, ev.TestsRan):
            if t.first_tests is None:
                t.first_tests = e.passed
        elif isinstance(e, ev.TaskFixing):
            t.fixes += 1
            if t.ensemble and t.picked is None:
                t.fixes_in_ensemble += 1
        elif isinstance(e, ev.MergeConflict):
            t.conflicts += 1
        elif isinstance(e, ev.LLMUsage):
            self._usage(t, e)
        elif isinstance(e, ev.CandidateFinished):
            t.candidates[e.candidate] = e
            t.candidate_ts[e.candidate] = e.ts
        elif isinstance(e, ev.CandidateSelected):
            t.picked = e.candidate
            t.interventions += e.method == "human"
        elif isinstance(e, _HUMAN):
            t.interventions += 1
        t.last_ts = e.ts

    @staticmethod
    def _usage(t: _Task, e: ev.LLMUsage) -> None:
        t.simulated = t.simulated or e.simulated
        t.unpriced += e.cost_usd is None
        if e.purpose == "work":
            t.models[e.model] += 1
        if e.candidate is None:
            return
        row = t.by_candidate.setdefault(e.candidate, [0, 0, 0.0, 0, False, ""])
        row[0] += e.tokens_in
        row[1] += e.tokens_out
        row[2] += e.cost_usd or 0.0
        row[3] += e.cost_usd is None
        row[4] = row[4] or e.simulated
        row[5] = row[5] or e.model


def _merged(view: TaskView) -> bool:
    if view.status is TaskStatus.MERGED:
        return True
    return view.status is TaskStatus.DONE and not (view.files and view.role != "reviewer")


def _model_of(worker: str, models: Counter[str]) -> str:
    if models:
        return models.most_common(1)[0][0]
    return worker.removeprefix("llm:") if worker.startswith("llm:") else ""


def task_outcomes(events: Iterable[ev.Event], state: RunState | None = None) -> list[TaskOutcome]:
    """Every task's outcome (and every ensemble candidate's), in plan order."""
    events = list(events)
    state = state if state is not None else fold(events)
    gathered = _Pass()
    for e in events:
        gathered.feed(e)
    run_id = state.run_id or (events[0].run_id if events else "")
    out: list[TaskOutcome] = []
    for view in state.tasks.values():
        t = gathered.task(view.id)
        planned = gathered.plan.get(view.id, {})
        worker = gathered.workers.get(view.id) or ("" if t.ensemble else view.worker)
        if view.taken_over:
            worker = ""  # its result's worker is the run's it was taken from
        started = view.attempts > 0 and not view.taken_over
        wall = None
        if started and t.first_ts is not None and t.last_ts is not None:
            wall = t.last_ts - t.first_ts
        task = TaskOutcome(
            run_id=run_id,
            task_id=view.id,
            role=view.role,
            worker=view.worker if view.worker and not t.ensemble else worker,
            model=_model_of(worker or view.worker, t.models),
            status=view.status.value,
            started=started,
            merged=_merged(view),
            taken_over=view.taken_over,
            attempts=view.attempts,
            first_try_green=t.first_tests,
            fix_rounds=t.fixes,
            conflicts=t.conflicts,
            interventions=t.interventions,
            files=len(view.files_changed),
            lines=view.insertions + view.deletions,
            tokens_in=view.tokens_in,
            tokens_out=view.tokens_out,
            cost_usd=view.cost_usd,
            unpriced_calls=t.unpriced,
            simulated=t.simulated,
            wall_s=wall,
            commit=view.commit,
            gate=view.gate if view.gate in ("passed", "failed") else "",
            gate_n_passed=view.gate_n_passed,
            gate_n_failed=view.gate_n_failed,
        )
        out.append(task)
        if t.ensemble:
            out.extend(_candidates(task, t, planned, worker))
    return out


def _candidates(
    task: TaskOutcome, t: _Task, planned: Mapping[str, Any], worker: str
) -> list[TaskOutcome]:
    """Each candidate of an ensemble as a unit of its own (its worker, model and calls)."""
    models = list(planned.get("models") or ())
    out = []
    for index in sorted(set(t.candidates) | set(t.by_candidate)):
        done = t.candidates.get(index)
        usage = t.by_candidate.get(index, [0, 0, 0.0, 0, False, ""])
        own_model = models[index - 1] if index <= len(models) else ""
        model = own_model or (done.model if done else "") or usage[5]
        known = t.fixes_in_ensemble == 0
        end = t.candidate_ts.get(index)
        out.append(
            dataclasses.replace(
                task,
                candidate=index,
                worker=f"llm:{own_model}" if own_model else worker,
                model=model,
                merged=task.merged and t.picked == index,
                first_try_green=(done.tests_passed if done else None) if known else None,
                fix_rounds=0 if known else None,
                conflicts=task.conflicts if t.picked == index else 0,
                interventions=0,
                files=0,
                lines=done.lines_changed if done else 0,
                tokens_in=usage[0],
                tokens_out=usage[1],
                cost_usd=usage[2],
                unpriced_calls=usage[3],
                simulated=usage[4],
                wall_s=end - t.first_ts if end is not None and t.first_ts is not None else None,
                commit=done.commit if done else None,
            )
        )
    return out
