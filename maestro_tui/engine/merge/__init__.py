"""Merging: each task's result judged, tested merged on the integration branch, and landed only
green; what is doubtful waits for the human's decision."""

from maestro_tui.engine.merge.commit_tests import GATE_DIR_PREFIX, BaseVerdict, CommitTests
from maestro_tui.engine.merge.decisions import MergeDecisions
from maestro_tui.engine.merge.gate import Gate, merge_message
from maestro_tui.engine.merge.pipeline import GateItem, Pipeline, Segment
from maestro_tui.engine.merge.policy import (
    RESOLUTIONS,
    Candidate,
    Decision,
    FixRequest,
    GateSettings,
    MergeLimits,
    MergeNeedsResolution,
    MergeRefused,
    PendingMerge,
    Resolution,
    test_detail,
)
from maestro_tui.engine.merge.queue import MergeQueue, TrialMerge

__all__ = [
    "GATE_DIR_PREFIX",
    "RESOLUTIONS",
    "BaseVerdict",
    "Candidate",
    "CommitTests",
    "Decision",
    "FixRequest",
    "Gate",
    "GateItem",
    "GateSettings",
    "MergeDecisions",
    "MergeLimits",
    "MergeNeedsResolution",
    "MergeQueue",
    "MergeRefused",
    "PendingMerge",
    "Pipeline",
    "Resolution",
    "Segment",
    "TrialMerge",
    "merge_message",
    "test_detail",
]
