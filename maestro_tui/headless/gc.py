"""`gc`: remove the worktrees and task branches that finished or crashed runs left behind."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.engine.runlock import is_locked
from maestro_tui.workspace.repo import Workspace

TASK_BRANCH_PREFIX = "maestro-task/"


def collect_garbage(repo: Path, db_path: Path, *, remove_unmerged: bool = False) -> int:
    """Remove worktrees of runs no process holds, and their task branches once merged.

    Unmerged task branches (rejected or failed work) are kept for inspection unless
    `remove_unmerged`. Integration branches are kept: they hold results until landed.
    """
    ws = Workspace.open(repo)
    root = ws.worktrees_dir()
    removed_trees = 0
    for tree in ws.list_worktrees():
        run_id = tree.path.relative_to(root).parts[0] if root in tree.path.parents else ""
        if run_id and is_locked(db_path, run_id):
            continue
        ws.remove_worktree(tree.path)
        removed_trees += 1
    removed_branches = kept = 0
    for branch in ws.list_branches(TASK_BRANCH_PREFIX):
        run_id = branch.removeprefix(TASK_BRANCH_PREFIX).split("/")[0]
        if is_locked(db_path, run_id):
            continue
        integration = ws.integration_branch(run_id)
        head = ws.branch_head(branch)
        merged = (
            bool(head)
            and ws.branch_head(integration) is not None
            and ws.is_ancestor(head or "", integration)
        )
        if merged or remove_unmerged:
            ws.delete_branch(branch)
            removed_branches += 1
        else:
            kept += 1
    print(f"removed {removed_trees} worktree(s) and {removed_branches} task branch(es)")
    if kept:
        print(f"kept {kept} unmerged task branch(es) for inspection (--all removes them)")
    return 0
