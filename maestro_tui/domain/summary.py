"""A run told as a pull request: title and Markdown body, from its events alone.

Pure, so any front end (and `land --body-only`, for any forge) says the same thing: the goal,
each task with its agent, model, tests and cost, the merges a human decided, what it all
cost, and how to replay it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, TaskStatus, TaskView, fold

TITLE_LIMIT = 72


def pull_request_title(state: RunState) -> str:
    goal = " ".join(state.goal.split()) or f"maestro run {state.run_id}"
    return goal if len(goal) <= TITLE_LIMIT else goal[: TITLE_LIMIT - 1] + "…"


def _money(value: float, simulated: bool) -> str:
    return f"${value:.4f}" + (" (simulated)" if simulated else "")


def _tests(task: TaskView) -> str:
    if task.tests_passed is None:
        return "–"
    counts = ", ".join(
        f"{n} {word}"
        for n, word in ((task.n_passed, "passed"), (task.n_failed, "failed"))
        if n is not None and (n or word == "passed")
    )
    verdict = "pass" if task.tests_passed else "FAIL"
    return f"{verdict} ({counts})" if counts else verdict


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip() or "–"


def pull_request_body(events: Iterable[ev.Event]) -> str:
    """The body of a pull request for the run these events describe."""
    events = list(events)
    state = fold(events)
    models, decided = _models_and_decisions(events)
    lines = ["## Goal", "", state.goal.strip() or "(none given)", "", "## Tasks", ""]
    lines += ["| task | agent | model | tests | cost | outcome |", "|---|---|---|---|---|---|"]
    lines += [_task_row(task, models.get(task.id, []), state) for task in state.tasks.values()]
    if decided:
        lines += ["", "## Decided by a human", "", *decided]
    lines += [
        "",
        "## Cost",
        "",
        _cost_line(state),
        "",
        "## Replay",
        "",
        f"Run `{state.run_id}` started on `{state.base_branch}` and merged into"
        f" `{state.integration_branch}`. Every event is recorded: `maestro-tui replay"
        f" {state.run_id}` shows it again as it happened.",
    ]
    return "\n".join(lines) + "\n"


def _models_and_decisions(events: list[ev.Event]) -> tuple[dict[str, list[str]], list[str]]:
    """The models each task used (in order of first use), and the merges a human decided."""
    models: dict[str, list[str]] = defaultdict(list)
    decided: list[str] = []
    for e in events:
        if isinstance(e, ev.LLMUsage) and e.task and e.model not in models[e.task]:
            models[e.task].append(e.model)
        elif isinstance(e, ev.MergeApproved):
            how = f", taking {e.resolution}" if e.resolution not in ("", "manual") else ""
            how = ", resolved by hand" if e.resolution == "manual" else how
            decided.append(f"- `{e.task}`: approved by the reviewer{how}")
        elif isinstance(e, ev.MergeRejected) and not e.reason.startswith("withdrawn"):
            decided.append(f"- `{e.task}`: rejected: {e.reason}")
    return models, decided


def _task_row(task: TaskView, models: list[str], state: RunState) -> str:
    """A task's row of the Tasks table."""
    outcome = "merged" if task.status is TaskStatus.MERGED else task.status.value
    if task.status is TaskStatus.DONE:
        outcome = "done, no changes"
    cells = (
        f"`{task.id}` {task.title}",
        task.worker,
        ", ".join(models),
        _tests(task),
        _money(task.cost_usd, state.cost_simulated) if task.cost_usd else "–",
        outcome,
    )
    return "| " + " | ".join(_cell(x) for x in cells) + " |"


def _cost_line(state: RunState) -> str:
    """What the run spent, on how many calls and tokens, and how many tasks merged."""
    merged = state.count(TaskStatus.MERGED)
    calls = sum(m.calls for m in state.models.values())
    cost = _money(state.cost_usd, state.cost_simulated)
    if state.unpriced_calls:
        cost = f"at least {cost} ({state.unpriced_calls} call(s) of unknown price)"
    spent = (
        f"{cost} over {calls} model call(s), {state.tokens_in:,} tokens in and"
        f" {state.tokens_out:,} out"
        if calls
        else "No model usage was recorded"
    )
    return f"{spent}; {merged} of {len(state.tasks)} task(s) merged."
