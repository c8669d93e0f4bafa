"""How a run stands for the person who started it: the CLI's exit code, and how to go on."""

from __future__ import annotations

from maestro_tui.domain.state import RunState, RunStatus

EXIT_OK = 0  # every task merged, or had nothing to merge
# A task failed, was blocked or rejected, changed none of the files it was to change, or the
# budget ran out.
EXIT_TASK_FAILED = 1
EXIT_BAD_INPUT = 2  # bad input: nothing was written
EXIT_REVIEW = 3  # merges wait for review
EXIT_INTERRUPTED = 130  # interrupted; `maestro-tui resume RUN` goes on

EXIT_FOR_STATUS = {
    RunStatus.SUCCEEDED: EXIT_OK,
    RunStatus.FAILED: EXIT_TASK_FAILED,
    RunStatus.UNCHANGED: EXIT_TASK_FAILED,
    RunStatus.CANCELLED: EXIT_TASK_FAILED,
    RunStatus.WAITING: EXIT_REVIEW,
    RunStatus.INTERRUPTED: EXIT_INTERRUPTED,
    RunStatus.BUDGET_EXHAUSTED: EXIT_TASK_FAILED,
}


def final_status(state: RunState) -> RunStatus:
    """The status a run ended with, or would end with now if it has not finished."""
    return state.status if state.status in EXIT_FOR_STATUS else state.outcome()


def exit_code(state: RunState) -> int:
    """The CLI's exit code for where a run stands: 0 / 1 / 3 / 130."""
    return EXIT_FOR_STATUS.get(final_status(state), EXIT_TASK_FAILED)


def next_step(state: RunState) -> str | None:
    """What to type to go on with a run that has not finished; None when there is nothing to do."""
    status = final_status(state)
    if status is RunStatus.WAITING:
        waiting = len(state.waiting_merges)
        return f"{waiting} merge(s) wait for review: maestro-tui merges {state.run_id}"
    if status is RunStatus.BUDGET_EXHAUSTED:
        return (
            f"budget spent: raise it and go on with maestro-tui resume {state.run_id}"
            " --budget-usd AMOUNT"
        )
    if status is RunStatus.UNCHANGED:
        names = ", ".join(t.id for t in state.unchanged[:5])
        return (
            f"changed nothing, though they were to change files: {names};"
            f" their agents' logs say why (`maestro-tui replay {state.run_id}`)"
        )
    if status is RunStatus.INTERRUPTED:
        return f"run interrupted: maestro-tui resume {state.run_id}"
    return None
