"""Runs compared, for both front ends (`maestro-tui compare`, the launcher): their outcomes
from the store, and each task's two results compared in git."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from maestro_tui.domain.comparison import Comparison, compare_runs
from maestro_tui.session.inputs import UserError
from maestro_tui.store.db import Store
from maestro_tui.store.outcomes import outcomes_of
from maestro_tui.store.records import RunSummary
from maestro_tui.workspace.repo import Workspace, WorkspaceError
from maestro_tui.workspace.results import results_diff

# (task, index of the run compared with the first) -> (diff, made on one base)
Diffs = dict[tuple[str, int], tuple[str, bool]]


async def load_comparison(
    db_path: Path, refs: Sequence[str]
) -> tuple[list[RunSummary], Comparison]:
    """The runs (ids or unique prefixes) and their comparison; UserError for a bad list."""
    if len(refs) < 2:
        raise UserError("compare needs two runs or more: maestro-tui compare RUN RUN …")
    store = await Store.open(db_path)
    try:
        runs = []
        for ref in refs:
            run = await store.get_run(ref)
            if run is None:
                raise UserError(f"no run '{ref}' in {db_path}: see `maestro-tui runs`")
            runs.append(run)
        ids = [r.run_id for r in runs]
        if len(set(ids)) < len(ids):
            raise UserError("a run is named twice: give different runs")
        outcomes = await outcomes_of(store, ids)
    finally:
        await store.close()
    durations = {r.run_id: r.duration_s for r in runs}
    return runs, compare_runs({i: outcomes[i] for i in ids}, durations)


def result_diffs(runs: Sequence[RunSummary], comparison: Comparison) -> Diffs:
    """(task, run index) -> the diff from the baseline's result to that run's ("" when they
    agree on every file either changed) and whether it is on one base (workspace/results.py).
    Runs of another repository get none."""
    repo = runs[0].repo
    if any(r.repo != repo for r in runs):
        return {}
    try:
        ws = Workspace.open(Path(repo))
    except WorkspaceError:
        return {}
    diffs = {}
    by_task = {row.task_id: row for row in comparison.rows}
    for task, i, j in comparison.pairs():
        a, b = by_task[task].outcomes[i], by_task[task].outcomes[j]
        assert a is not None and b is not None and a.commit and b.commit
        try:
            diffs[(task, j)] = (
                ("", True) if a.commit == b.commit else results_diff(ws, a.commit, b.commit)
            )
        except WorkspaceError as exc:
            diffs[(task, j)] = (f"(cannot diff: {exc})", False)
    return diffs
