"""The user's git repository as maestro-tui uses it: branches, task worktrees, commits, landing.

Everything runs the git CLI with a list argv (never a shell): it is fast to start, and the only
way to reach `merge-tree --write-tree`, `commit-tree` and compare-and-swap `update-ref`.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.workspace._git import (
    FALLBACK_IDENTITY,
    Git,
    WorkspaceError,
    fallback_identity_env,
    git_env,
)
from maestro_tui.workspace.plumbing import DiffStat, commit_message, numstat
from maestro_tui.workspace.worktrees import WorktreeInfo, Worktrees, task_branch

__all__ = [
    "CommitInfo",
    "DiffStat",
    "Workspace",
    "WorkspaceError",
    "WorktreeInfo",
    "commit_message",
]

MERGED_TASK_TRAILER = "Maestro-Merged-Task"


@dataclass(frozen=True)
class CommitInfo:
    """A task's commit and what it changed against the base it started from."""

    sha: str
    files: tuple[str, ...]
    insertions: int
    deletions: int


def _status_paths(out: str) -> set[str]:
    """Paths from `git status --porcelain=v1 -z` (both sides of a rename)."""
    paths: set[str] = set()
    entries = iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.add(entry[3:])
        if entry[0] in "RC":
            paths.add(next(entries, ""))
    paths.discard("")
    return paths


def _covers(spec: str, path: str) -> bool:
    """Does a plan file entry (file, directory or glob) cover a repo path?"""
    if spec in (".", ""):
        return True
    if path == spec or path.startswith(spec.rstrip("/") + "/"):
        return True
    return any(c in spec for c in "*?[") and fnmatch.fnmatchcase(path, spec)


class Workspace(Worktrees):
    """One git repository: the user's working tree plus the worktrees maestro-tui makes for it
    (worktrees.py)."""

    def __init__(self, root: Path, common_dir: Path, git: Git) -> None:
        self.root = root
        self.common_dir = common_dir
        self.git = git
        # git itself races when worktrees are added, removed or listed at the same time (one
        # reads another's half-written .git/worktrees/<name>): one at a time per Workspace.
        self._worktree_lock = threading.RLock()
        self.has_identity = True  # the repository (or the user) names who commits

    def agent_env(self) -> dict[str, str]:
        """What agents' programs need in their environment to work here: a git identity
        when the repository has none (never written into its config)."""
        return {} if self.has_identity else fallback_identity_env()

    @classmethod
    def open(cls, path: Path) -> Workspace:
        """Open the repository containing `path`, or raise WorkspaceError saying how to fix it.

        One `git rev-parse` (~10 ms) answers everything: importing GitPython to ask the same
        took ~130 ms, on the way to the TUI's first frame.
        """
        path = Path(path).expanduser()
        if not path.exists():
            raise WorkspaceError(f"{path} does not exist: pass --repo PATH to your git repository")
        here = (path if path.is_dir() else path.parent).resolve()
        # In a bare repository (or inside .git) --show-toplevel fails after the first lines.
        found = Git(here, git_env())(
            "rev-parse", "--is-bare-repository", "--git-common-dir", "--show-toplevel",
            "--verify", "-q", "HEAD", ok=(0, 1, 128),
        )  # fmt: skip
        lines = found.out.splitlines()
        if not lines:
            if "not a git repository" in found.err:
                raise WorkspaceError(
                    f"{path} is not a git repository: run `git init` there or pass --repo PATH"
                )
            raise WorkspaceError(f"cannot open the git repository at {path}: {found.err}")
        if len(lines) < 3:
            raise WorkspaceError(
                f"{path} is a bare repository, with no working tree to work in: "
                f"clone it (`git clone {path} DIR`) and pass --repo DIR"
            )
        root = Path(lines[2]).resolve()
        if found.code != 0:
            raise WorkspaceError(
                f"{root} has no commit yet: commit something first "
                "(`git add -A && git commit -m 'first commit'`), then start again"
            )
        common_dir = (here / lines[1]).resolve()
        runner = Git(root, git_env(), ("-c", "commit.gpgSign=false"))
        # Commits must work on a machine with no git identity: fall back to our own.
        found = runner("config", "--get-regexp", r"^user\.(name|email)$", ok=(0, 1))
        keys = {line.split(" ", 1)[0] for line in found.out.splitlines()}
        ws = cls(root, common_dir, runner)
        if not {"user.name", "user.email"} <= keys:
            runner.options[:0] = FALLBACK_IDENTITY
            ws.has_identity = False
        return ws

    # --- the user's tree -------------------------------------------------------------------

    def current_branch(self) -> str:
        """The branch checked out in the user's tree, or "HEAD" if detached."""
        res = self.git("symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1))
        return res.out.strip() or "HEAD"

    def head_commit(self) -> str:
        return self.rev_parse("HEAD")[0]

    def resolve_base(self, rev: str | None) -> tuple[str, str]:
        """(name, commit) a run starts from: `rev` (a branch, tag or commit), or by default the
        branch checked out in the user's tree. An unknown name says how to find a good one."""
        if rev is None:
            return self.current_branch(), self.head_commit()
        if rev.startswith("-") or not rev.strip():
            raise WorkspaceError(f"--base {rev!r} is not a branch or commit name")
        found = self.git("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", ok=(0, 1))
        if found.code:
            raise WorkspaceError(
                f"--base {rev}: no such branch, tag or commit in {self.root}: "
                "see `git branch -a`, or fetch it first"
            )
        return rev, found.out.strip()

    def is_checked_out(self, name: str) -> bool:
        """True when `name` is the branch of the user's own working tree."""
        return name == self.current_branch()

    def dirty_paths(self, cwd: Path | None = None, untracked: bool = True) -> set[str]:
        """Staged, unstaged and (unless told not to) untracked, not ignored, paths."""
        mode = "--untracked-files=all" if untracked else "--untracked-files=no"
        return _status_paths(self.git("status", "--porcelain=v1", "-z", mode, cwd=cwd).out)

    def check_clean_for(self, files: Iterable[str]) -> None:
        """Refuse if any plan file, or a file under a plan directory, has uncommitted changes."""
        specs = [f.strip().removeprefix("./") for f in files if f.strip()]
        if not specs:
            return
        hits = sorted(p for p in self.dirty_paths() if any(_covers(s, p) for s in specs))
        if hits:
            shown = ", ".join(hits[:10]) + (f" and {len(hits) - 10} more" if len(hits) > 10 else "")
            raise WorkspaceError(
                f"uncommitted changes in files the plan works on: {shown}: "
                "commit or stash them first (`git stash -u`), so the agents start from them"
            )

    # --- refs ------------------------------------------------------------------------------

    @staticmethod
    def integration_branch(run_id: str) -> str:
        """The branch a run merges its tasks into: `maestro/<run_id>`."""
        return f"maestro/{run_id}"

    task_branch = staticmethod(task_branch)

    def rev_parse(self, *revs: str) -> list[str]:
        """Object ids of `revs`, in one git call; WorkspaceError names any that do not exist."""
        if any(r.startswith("-") for r in revs):
            raise WorkspaceError(f"bad revision in {revs}: names cannot start with '-'")
        res = self.git("rev-parse", *revs, ok=(0, 128))
        if res.code:
            bad = [r for r in revs if self.git("rev-parse", "-q", "--verify", r, ok=(0, 1)).code]
            raise WorkspaceError(f"unknown revision(s) {', '.join(bad or revs)}: check the name")
        return res.out.split()

    def branch_head(self, branch: str) -> str | None:
        res = self.git("rev-parse", "-q", "--verify", f"refs/heads/{branch}^{{commit}}", ok=(0, 1))
        return res.out.strip() or None

    def create_integration_branch(self, run_id: str, base_commit: str) -> str:
        """Create `maestro/<run_id>` at `base_commit`; an existing branch is an error."""
        name = self.integration_branch(run_id)
        (sha,) = self.rev_parse(f"{base_commit}^{{commit}}")
        res = self.git(
            "update-ref", "-m", "maestro: start run", f"refs/heads/{name}", sha, "", ok=(0, 1, 128)
        )
        if res.code:
            raise WorkspaceError(
                f"cannot create branch {name}: {res.err or 'it already exists'}: "
                f"resume that run, or delete the branch (`git branch -D {name}`)"
            )
        return name

    def update_branch(self, branch: str, new: str, old: str, reason: str = "maestro") -> bool:
        """Move `branch` from `old` to `new` atomically; False if it no longer points at `old`."""
        ref = f"refs/heads/{branch}"
        if self.git("update-ref", "-m", reason, ref, new, old, ok=(0, 1, 128)).code == 0:
            return True
        if self.branch_head(branch) != old:
            return False
        raise WorkspaceError(f"could not update {ref}: is the repository locked? try again")

    def list_branches(self, prefix: str) -> list[str]:
        out = self.git("for-each-ref", "--format=%(refname)", "refs/heads/").out
        names = (line.removeprefix("refs/heads/") for line in out.splitlines())
        return sorted(n for n in names if n.startswith(prefix))

    def delete_branch(self, name: str) -> None:
        """Delete a branch; no error if it is already gone."""
        with self._worktree_lock:  # git reads every worktree's HEAD first
            res = self.git("branch", "-D", "--", name, ok=(0, 1))
        if res.code and "not found" not in res.err:
            raise WorkspaceError(
                f"cannot delete branch {name}: {res.err}: remove its worktree first"
            )

    def is_ancestor(self, commit: str, of: str) -> bool:
        return self.git("merge-base", "--is-ancestor", commit, of, ok=(0, 1)).code == 0

    def merged_task_ids(
        self, integration_branch: str, since: str | None = None, paths: Sequence[str] = ()
    ) -> dict[str, str]:
        """Task id -> merge commit, from `Maestro-Merged-Task:` trailers (first-parent history).

        `since` (the run's base commit) stops the walk there instead of at the root; `paths`
        keeps only the merges that changed one of them.
        """
        fmt = f"--format=%H%x00%(trailers:key={MERGED_TASK_TRAILER},valueonly,separator=%x00)%x1e"
        rev = f"refs/heads/{integration_branch}"
        where = ["--", *paths] if paths else []
        out = self.git(
            "log", "--first-parent", fmt, f"{since}..{rev}" if since else rev, *where
        ).out
        merged: dict[str, str] = {}
        for record in out.split("\x1e"):
            sha, *ids = record.strip("\n").split("\0")
            for task_id in ids:
                if task_id.strip():
                    merged.setdefault(task_id.strip(), sha)  # newest first: keep the latest
        return merged

    # --- diffs -----------------------------------------------------------------------------

    def diff_stat(self, base: str, head: str) -> DiffStat:
        return numstat(self.git("diff", "--numstat", "-z", "--no-renames", base, head).out)

    def diff_text(self, base: str, head: str, context: int = 3) -> str:
        """Unified diff, whatever the user's diff settings (no colour, a/ b/ prefixes)."""
        return self.git(
            "diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
            f"-U{context}", base, head,
        ).out  # fmt: skip

    def commit_all(
        self,
        worktree: Path,
        base: str,
        subject: str,
        body: str,
        trailers: Mapping[str, str],
        exclude: Sequence[str] = (),
    ) -> CommitInfo | None:
        """Squash everything the worker did since `base` into one commit; None if no change.

        Honours .gitignore; `exclude` are git pathspec globs (`*` also matches `/`) that are
        never committed, even if the worker committed them itself. Hooks do not run: the
        project's tests validate the result instead.
        """
        git = self.git
        git("add", "-A", "--", ".", *(f":(exclude){p}" for p in exclude), cwd=worktree)
        if exclude:
            git("reset", "-q", base, "--", *exclude, cwd=worktree)
        stat = numstat(
            git("diff", "--cached", "--numstat", "-z", "--no-renames", base, cwd=worktree).out
        )
        if not stat.files:
            return None
        tree = git("write-tree", cwd=worktree).out.strip()
        message = commit_message(subject, body, trailers)
        sha = git("commit-tree", tree, "-p", base, stdin=message, cwd=worktree).out.strip()
        git("update-ref", "-m", "maestro: commit task", "HEAD", sha, cwd=worktree)
        return CommitInfo(sha, stat.files, stat.insertions, stat.deletions)
