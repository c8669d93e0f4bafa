"""`gc`: remove the worktrees and task branches that finished or crashed runs left behind."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from maestro_tui.config import ConfigError, load_config
from maestro_tui.engine.runlock import is_locked
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.worktrees import AGENTS_DIR

TASK_BRANCH_PREFIX = "maestro-task/"


def collect_garbage(repo: Path, db_path: Path, *, remove_unmerged: bool = False) -> int:
    """Remove worktrees (and agent folders) of runs no process holds, and their task branches
    once merged; worktrees in the old place, `.git/maestro-worktrees/`, too.

    Unmerged task branches (rejected or failed work) are kept for inspection unless
    `remove_unmerged`. Integration branches are kept: they hold results until landed.
    """
    ws = Workspace.open(repo)
    try:
        ws.set_worktree_root(load_config(ws.root).worktree_root)
    except ConfigError:
        pass  # a broken maestro.toml must not stop a clean-up: the default place is searched
    removed_trees = 0
    for tree in ws.list_worktrees():
        run_id = ws.run_of(tree.path, tree.branch) or ""
        if run_id and is_locked(db_path, run_id):
            continue
        ws.remove_worktree(tree.path)
        removed_trees += 1
    for root in ws.worktree_roots():
        for run_dir in root.iterdir() if root.is_dir() else ():
            if run_dir.is_dir() and not is_locked(db_path, run_dir.name):
                _remove_run_dir(run_dir)
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


def _remove_run_dir(run_dir: Path) -> None:
    """A run's folder once its worktrees are gone: its agents' folder, then whatever is left
    empty. Anything else in it (not ours) stays."""
    shutil.rmtree(run_dir / AGENTS_DIR, ignore_errors=True)
    for sub in sorted(run_dir.glob("**/"), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            sub.rmdir()
