"""Git adapter overhead: 32 tasks, each worktree add -> write a file -> commit -> check -> merge.

Baseline, same run and repository: the bare git commands doing the same work through
subprocess (worktree add, add + commit + rev-parse, merge-tree, commit-tree + update-ref).
Target: the adapter costs ≤ 1.5× the baseline per task. The worktree checkout dominates a
task, so the figures are also given without it, where the adapter's extra work shows.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from maestro_tui.workspace import Workspace, check_merge, merge_into

TASKS = 32
FILES = 50  # a small project
TARGET = 1.5
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=True
    ).stdout.strip()


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for n in range(FILES):
        (repo / "src" / f"mod{n}.py").write_text(f"VALUE = {n}\n" * 20)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


def raw_task(repo: Path, wt_root: Path, i: int) -> tuple[float, float]:
    """The same steps as one task, with nothing but the git commands: (worktree, rest) s."""
    started = time.perf_counter()
    wt = wt_root / f"t{i}"
    git(repo, "worktree", "add", "-q", "-B", f"raw-task/t{i}", str(wt), "raw/r1")
    added = time.perf_counter()
    (wt / f"task{i}.txt").write_text(f"work of task {i}\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", f"task {i}\n\nMaestro-Task: t{i}")
    commit = git(wt, "rev-parse", "HEAD")
    head = git(repo, "rev-parse", "refs/heads/raw/r1")
    tree = git(repo, "merge-tree", "--write-tree", head, commit)
    merge = git(repo, "commit-tree", tree, "-p", head, "-p", commit, "-m", f"merge t{i}")
    git(repo, "update-ref", "refs/heads/raw/r1", merge, head)
    return added - started, time.perf_counter() - added


def adapter_task(ws: Workspace, i: int) -> tuple[float, float]:
    started = time.perf_counter()
    branch = "maestro/r1"
    base = ws.branch_head(branch)
    assert base
    wt = ws.add_worktree("r1", f"t{i}", 1, base)
    added = time.perf_counter()
    (wt / f"task{i}.txt").write_text(f"work of task {i}\n")
    info = ws.commit_all(wt, base, f"task {i}", "", {"Maestro-Task": f"t{i}"})
    assert info is not None
    check = check_merge(ws, branch, info.sha)
    assert check.clean
    merge_into(ws, branch, info.sha, f"merge t{i}\n\nMaestro-Merged-Task: t{i}\n")
    return added - started, time.perf_counter() - added


def _ms(samples: list[tuple[float, float]], part: int | None) -> float:
    """Median in ms of one part (0 worktree, 1 the rest) or of the whole (None)."""
    values = [s[part] if part is not None else s[0] + s[1] for s in samples]
    return statistics.median(values) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maestro-bench-git-") as tmp:
        repo = make_repo(Path(tmp))
        git(repo, "branch", "raw/r1")
        ws = Workspace.open(repo)
        ws.create_integration_branch("r1", ws.head_commit())
        raw_root = Path(tmp) / "raw-worktrees"
        raw_task(repo, raw_root, -1)  # warm the page cache for both
        adapter_task(ws, -1)
        raw: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for i in range(TASKS):  # interleaved, so both see the same repository growth
            raw.append(raw_task(repo, raw_root, i))
            ours.append(adapter_task(ws, i))
        assert len(ws.merged_task_ids("maestro/r1")) == TASKS + 1

    print(f"{TASKS} tasks, {FILES}-file repo; median ms per task (raw git / adapter / ratio)")
    for label, part in (("whole task", None), ("worktree add", 0), ("commit+check+merge", 1)):
        raw_ms, ours_ms = _ms(raw, part), _ms(ours, part)
        print(f"  {label:<19}{raw_ms:8.1f} {ours_ms:8.1f} {ours_ms / raw_ms:6.2f}x")
    ratio = _ms(ours, None) / _ms(raw, None)
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"  whole-task ratio {ratio:.2f}x, target <= {TARGET}x: {verdict}")


if __name__ == "__main__":
    main()
