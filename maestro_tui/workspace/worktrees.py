"""Where task worktrees live, and making, finding and removing them.

Not inside `.git/`: Claude Code refuses to edit any file under a `.git` directory (its cwd
included), so a worktree there lets the agent "finish" with nothing written. Not inside the
user's working tree either, where their own `pytest` or `grep` would trip over them. By
default each repository gets its own folder in the user cache directory; `[run]
worktree_root` puts them elsewhere. Runs made before this kept them in
`.git/maestro-worktrees/`: that place is still searched, so `gc`, `resume` and `land` handle
those runs too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.workspace._git import Git

LEGACY_DIR = "maestro-worktrees"  # under the git common dir, before worktrees moved out
SCRATCH_DIR = ".scratch"  # scratch checkouts of a run; task ids cannot start with "."
AGENTS_DIR = ".agents"  # per-task agent state; task ids cannot start with "."


@dataclass(frozen=True)
class WorktreeInfo:
    path: Path
    branch: str | None  # None when detached
    head: str


TASK_BRANCH_PREFIX = "maestro-task/"


def task_branch(run_id: str, task_id: str) -> str:
    """A task's branch: `maestro-task/<run_id>/<task_id>`.

    Not `maestro/<run_id>/<task_id>`: git stores branches as files, so the ref
    `refs/heads/maestro/<run_id>` cannot exist beside a directory of the same name.
    """
    return f"{TASK_BRANCH_PREFIX}{run_id}/{task_id}"


def default_worktree_root(common_dir: Path) -> Path:
    """`<user cache>/maestro-tui/worktrees/<repo name>-<hash of its git dir>`."""
    import platformdirs  # lazily: only runs that make worktrees need it

    common = Path(common_dir).resolve()
    repo = common.parent if common.name == ".git" else common
    digest = hashlib.sha256(str(common).encode()).hexdigest()[:10]
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in repo.name) or "repo"
    return platformdirs.user_cache_path("maestro-tui") / "worktrees" / f"{name}-{digest}"


class Worktrees:
    """The worktree half of a Workspace (mixed into it): needs `root`, `common_dir`, `git`."""

    root: Path
    common_dir: Path
    git: Git
    _worktree_lock: threading.RLock
    _worktree_root: Path | None = None

    def set_worktree_root(self, root: str | Path | None) -> None:
        """Use `root` for new worktrees (`~` expanded, relative to the repository); None: the
        default place in the user cache directory."""
        if root is None or str(root).strip() == "":
            self._worktree_root = None
            return
        path = Path(os.path.expanduser(str(root)))
        self._worktree_root = (path if path.is_absolute() else self.root / path).resolve()

    def worktrees_dir(self) -> Path:
        """Where this repository's task worktrees go: `<dir>/<run>/<task>`."""
        return self._worktree_root or default_worktree_root(self.common_dir)

    def legacy_worktrees_dir(self) -> Path:
        return self.common_dir / LEGACY_DIR

    def worktree_roots(self) -> tuple[Path, ...]:
        """Every place maestro-tui worktrees of this repository may be, the current one first."""
        roots: list[Path] = []
        candidates = (self.worktrees_dir(), default_worktree_root(self.common_dir))
        for root in (*candidates, self.legacy_worktrees_dir()):
            if root.resolve() not in roots:
                roots.append(root.resolve())
        return tuple(roots)

    def run_of(self, path: Path, branch: str | None = None) -> str | None:
        """The run a maestro-tui worktree belongs to (from its place, or its task branch when
        it was made under a worktree_root the config no longer names), or None."""
        path = Path(path).resolve()
        for root in self.worktree_roots():
            if path.is_relative_to(root) and path != root:
                return path.relative_to(root).parts[0]
        if branch and branch.startswith(TASK_BRANCH_PREFIX):
            return branch.removeprefix(TASK_BRANCH_PREFIX).split("/")[0]
        return None

    def worktree_path(self, run_id: str, label: str) -> Path:
        """A task's worktree: the same path for every attempt, so a CLI that keys its sessions
        by directory (Gemini CLI) finds the session again on a retry."""
        return self.worktrees_dir() / run_id / label

    def agent_dir(self, run_id: str, label: str) -> Path:
        """A private folder for one task's agent, beside (never inside) its worktree, kept
        across its attempts: its temp files, a CLI's own home or history."""
        path = self.worktrees_dir() / run_id / AGENTS_DIR / label
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def add_worktree(self, run_id: str, task_id: str, attempt: int, base: str) -> Path:
        """(Re)create the task branch at `base` and check it out in a fresh worktree."""
        with self._worktree_lock:
            path = self.worktree_path(run_id, task_id)
            branch = task_branch(run_id, task_id)
            # A worktree of an earlier attempt (a crash left it) may still hold the branch.
            for old in self.list_worktrees():
                if old.path == path.resolve() or (old.branch == branch and old.path != path):
                    self.remove_worktree(old.path)
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            argv = ("worktree", "add", "-q", "--force", "-B", branch, str(path), base)
            if self.git(*argv, ok=(0, 128, 255)).code:
                for wt in self.all_worktrees():  # held elsewhere, e.g. after a crash: clear, retry
                    if wt.branch == branch:
                        self.remove_worktree(wt.path)
                self.git("worktree", "prune")
                self.git(*argv)
        return path

    def scratch_path(self, owner: str, name: str) -> Path:
        """Where a throwaway checkout of `owner` (a run, an MCP session) named `name` goes:
        `<dir>/<owner>/.scratch/<name>`, which no task's worktree can be (no task id starts
        with a dot)."""
        return self.worktrees_dir() / owner / SCRATCH_DIR / name

    def add_scratch_worktree(self, path: Path, commit: str) -> Path:
        """Check `commit` out detached in a fresh worktree at `path`, with no hook run: the
        gate tests merged trees there. One left at the same path (a crash) is replaced."""
        with self._worktree_lock:
            if path.exists():
                self.remove_worktree(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.git(
                "-c", "core.hooksPath=/dev/null",
                "worktree", "add", "-q", "--detach", "--force", str(path), commit,
            )  # fmt: skip
        return path

    def check_out_tree(self, worktree: Path, tree: str) -> None:
        """Make a worktree's index and files hold `tree`; its HEAD stays where it is."""
        self.git("read-tree", "--reset", "-u", tree, cwd=worktree)

    def remove_worktree(self, path: Path) -> None:
        """Force-remove a worktree and its registration; no error if it is already gone."""
        path = Path(path)
        with self._worktree_lock:
            if self.git("worktree", "remove", "--force", "--force", str(path), ok=(0, 128)).code:
                if path.exists():
                    shutil.rmtree(path, ignore_errors=True)
                self.git("worktree", "prune")

    def list_worktrees(self) -> list[WorktreeInfo]:
        """The worktrees maestro-tui made, wherever (and whenever) it made them: under one of
        its roots, or anywhere on a task branch."""
        return [wt for wt in self.all_worktrees() if self.run_of(wt.path, wt.branch)]

    def all_worktrees(self) -> list[WorktreeInfo]:
        with self._worktree_lock:
            out = self.git("worktree", "list", "--porcelain", "-z").out
        found: list[WorktreeInfo] = []
        for block in out.split("\0\0"):
            fields = dict(line.partition(" ")[::2] for line in block.split("\0") if line)
            if "worktree" in fields and "bare" not in fields:
                branch = fields.get("branch")
                found.append(
                    WorktreeInfo(
                        Path(fields["worktree"]).resolve(),
                        branch.removeprefix("refs/heads/") if branch else None,
                        fields.get("HEAD", ""),
                    )
                )
        return found
