"""The git adapter: the user's repository, task worktrees, merges, and test validation."""

from maestro_tui.workspace._git import FALLBACK_IDENTITY
from maestro_tui.workspace.merge import (
    ConflictFile,
    ConflictHunk,
    MergeCheck,
    MergeRaced,
    check_merge,
    merge_into,
    resolve_text,
)
from maestro_tui.workspace.plumbing import DiffStat, MergeTreeResult, commit_message
from maestro_tui.workspace.repo import CommitInfo, Workspace, WorkspaceError, WorktreeInfo
from maestro_tui.workspace.validate import TestResult, parse_test_counts, run_tests

__all__ = [
    "FALLBACK_IDENTITY",
    "CommitInfo",
    "ConflictFile",
    "ConflictHunk",
    "DiffStat",
    "MergeCheck",
    "MergeRaced",
    "MergeTreeResult",
    "TestResult",
    "Workspace",
    "WorkspaceError",
    "WorktreeInfo",
    "check_merge",
    "commit_message",
    "merge_into",
    "parse_test_counts",
    "resolve_text",
    "run_tests",
]
