"""Task results in git after their run: taken over onto another branch, compared, reverted.

- `apply_change`: a commit's change (against its first parent) applied onto another commit,
  as `git cherry-pick` would, with no working tree touched (a re-run takes a task over).
- `results_diff`: how two results of the same task differ, on the files either changed.
- `find_reverts`: the results that a later commit on any local branch reverted (`git revert`
  of a task's commit, of its merge into the integration branch, or of a whole run's landing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maestro_tui.workspace import plumbing
from maestro_tui.workspace.repo import MERGED_TASK_TRAILER, Workspace

_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_LAND = re.compile(r"^Land maestro run (\S+?):")
_FIELD, _RECORD, _LIST = "\x00", "\x1e", "\x01"


@dataclass(frozen=True)
class Applied:
    """What applying a change gave: the new commit, or the paths that conflict."""

    commit: str | None
    conflicts: tuple[str, ...] = ()


def apply_change(ws: Workspace, change: str, onto: str, message: str) -> Applied:
    """Apply what `change` did to its first parent onto commit `onto`: a new commit whose only
    parent is `onto` (history stays clean of the run it came from). Nothing moves.

    git before 2.40 has no `merge-tree --merge-base`: the three trees are merged through two
    throwaway commits that share a root commit holding the parent's tree, so that this root is
    their merge base.
    """
    git = ws.git
    parent_tree, change_tree, onto_tree = ws.rev_parse(
        f"{change}^1^{{tree}}", f"{change}^{{tree}}", f"{onto}^{{tree}}"
    )
    if change_tree == parent_tree:
        return Applied(onto)  # it changed nothing
    base = plumbing.commit_tree(git, parent_tree, (), "maestro: base of a change")
    ours = plumbing.commit_tree(git, onto_tree, (base,), "maestro: ours")
    theirs = plumbing.commit_tree(git, change_tree, (base,), "maestro: theirs")
    merged = plumbing.merge_tree(git, ours, theirs)
    if not merged.clean:
        return Applied(None, merged.conflicted)
    return Applied(plumbing.commit_tree(git, merged.tree, (onto,), message))


def merges_in_order(ws: Workspace, branch: str, since: str) -> list[tuple[str, str, list[str]]]:
    """(commit, subject, tasks) of each commit of `branch` after `since` that merged tasks
    (`Maestro-Merged-Task` trailers), oldest first, along its first parents."""
    fmt = f"--format=%H%x00%s%x00%(trailers:key={MERGED_TASK_TRAILER},valueonly,separator=%x01)%x1e"
    out = ws.git("log", "--first-parent", "--reverse", fmt, f"{since}..refs/heads/{branch}").out
    merges = []
    for record in out.split(_RECORD):
        parts = record.strip("\n").split(_FIELD)
        if len(parts) == 3:
            tasks = [t.strip() for t in parts[2].split(_LIST) if t.strip()]
            if tasks:
                merges.append((parts[0], parts[1], tasks))
    return merges


def results_diff(ws: Workspace, first: str, second: str, context: int = 3) -> tuple[str, bool]:
    """How result `second` differs from result `first`, on the files either changed: the
    unified diff ("" when they agree), and whether both changes were put on the same base.

    The two were usually made on different bases (other tasks had merged in between): a plain
    diff of the two commits would show those tasks' work too. So `second`'s change is applied
    onto `first`'s parent and compared there; if it does not apply, the plain diff is given.
    """
    paths = sorted(set(_changed(ws, first)) | set(_changed(ws, second)))
    if not paths:
        return "", True
    replayed = apply_change(ws, second, f"{first}^1", "maestro: compare results").commit
    text = ws.git(
        "diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
        f"-U{context}", first, replayed or second, "--", *paths,
    ).out  # fmt: skip
    return text, replayed is not None


def _changed(ws: Workspace, commit: str) -> list[str]:
    out = ws.git("diff", "--name-only", "-z", "--no-renames", f"{commit}^1", commit).out
    return [p for p in out.split("\0") if p]


def find_reverts(ws: Workspace, since: float | None = None) -> dict[tuple[str, str], str]:
    """(run, task) -> the commit that reverted that task's result, from every local branch.

    A revert is found by git's own message ("This reverts commit X"); X is a task's commit
    (Maestro-Run and Maestro-Task trailers), its merge into the integration branch
    (Maestro-Merged-Task), or a run's landing ("Land maestro run R": its every task, given as
    task "*"). A revert that was itself reverted (reapplied) does not count. `since` (epoch
    seconds) skips commits made before it.
    """
    args = ["log", "--branches", "-E", "--grep=This reverts commit [0-9a-f]{7}"]
    if since is not None:
        args.append(f"--since=@{int(since)}")
    out = ws.git(*args, "--format=%H%x00%B%x1e").out
    reverted: dict[str, str] = {}  # reverted commit (as named) -> the reverting commit
    for record in out.split(_RECORD):
        sha, _, body = record.strip("\n").partition(_FIELD)
        for named in _REVERTS.findall(body):
            reverted.setdefault(named, sha)
    if not reverted:
        return {}
    full = _resolve(ws, list(reverted))
    by_full = {full[named]: by for named, by in reverted.items() if named in full}
    undone = {c for c in by_full if c in by_full.values()}  # reverts that were reverted
    found: dict[tuple[str, str], str] = {}
    for commit, run, tasks in _trailers(ws, [c for c in by_full if c not in undone]):
        if by_full[commit] in undone:
            continue
        for task in tasks:
            found.setdefault((run, task), by_full[commit])
    return found


def _resolve(ws: Workspace, names: Sequence[str]) -> dict[str, str]:
    """Full commit ids of the names that exist (a revert may name a commit long gone)."""
    out = ws.git(
        "cat-file", "--batch-check=%(objectname) %(objecttype)",
        stdin="".join(f"{n}^{{commit}}\n" for n in names),
    ).out.splitlines()  # fmt: skip
    return {
        name: line.split()[0]
        for name, line in zip(names, out, strict=False)
        if line.endswith(" commit")
    }


def _trailers(ws: Workspace, commits: Sequence[str]) -> Iterable[tuple[str, str, list[str]]]:
    """(commit, run, tasks) of each commit that a run made or landed."""
    if not commits:
        return
    keys = ("Maestro-Run", "Maestro-Task", MERGED_TASK_TRAILER)
    fields = "%x00".join(f"%(trailers:key={k},valueonly,separator=%x01)" for k in keys)
    out = ws.git("log", "--no-walk=unsorted", "--stdin", f"--format=%H%x00%s%x00{fields}%x1e",
                 stdin="\n".join(commits) + "\n").out  # fmt: skip
    for record in out.split(_RECORD):
        parts = record.strip("\n").split(_FIELD)
        if len(parts) < 5:
            continue
        commit, subject, run, task, merged = parts[:5]
        tasks = [t.strip() for t in (task + _LIST + merged).split(_LIST) if t.strip()]
        run = run.split(_LIST)[0].strip()
        landed = _LAND.match(subject)
        if landed and not run:
            yield commit, landed.group(1), ["*"]
        elif run and tasks:
            yield commit, run, tasks
