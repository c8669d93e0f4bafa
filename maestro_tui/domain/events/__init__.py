"""Events: everything that happens in a run, as frozen, JSON-serialisable records.

Each event carries the run id, a per-run sequence number and a monotonic timestamp (seconds
since the run's clock started). Only the EventBus stamps those three; code that reports
something calls `bus.emit(TaskStarted, task=..., ...)`. The classes live by subject in the
modules of this package; every one is importable from here.
"""

from maestro_tui.domain.events.agents import (
    AgentSession,
    TaskStalled,
    TaskWaiting,
)
from maestro_tui.domain.events.base import (
    EVENT_TYPES,
    Event,
    event_from_dict,
    event_from_json,
)
from maestro_tui.domain.events.human import (
    NotifyFailed,
    SteerDelivered,
    SteerSent,
)
from maestro_tui.domain.events.lineage import (
    RerunOf,
    RunConfigured,
    TaskTakenOver,
)
from maestro_tui.domain.events.merges import (
    BaseRed,
    BaseTested,
    GateSkipped,
    MergeApproved,
    MergeConflict,
    Merged,
    MergeQueued,
    MergeRejected,
    MergeTested,
    MergeTesting,
    MergeWaiting,
)
from maestro_tui.domain.events.run import (
    ConcurrencyChanged,
    DispatchPaused,
    DispatchResumed,
    PlanApproved,
    PlanProposed,
    PlanRevised,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
)
from maestro_tui.domain.events.tasks import (
    AgentOutput,
    AttemptPlaced,
    CandidateFinished,
    CandidateSelected,
    CriticVerdict,
    FileChanged,
    FindingPublished,
    TaskBlocked,
    TaskCancelled,
    TaskCommitted,
    TaskFailed,
    TaskFinished,
    TaskFixing,
    TaskQueued,
    TaskStarted,
    TestsRan,
    ToolCalled,
)
from maestro_tui.domain.events.usage import (
    BudgetExceeded,
    BudgetRaised,
    BudgetWarning,
    LLMUsage,
)

__all__ = [
    "EVENT_TYPES",
    "Event",
    "event_from_dict",
    "event_from_json",
    "AgentOutput",
    "AgentSession",
    "AttemptPlaced",
    "BaseRed",
    "BaseTested",
    "BudgetExceeded",
    "BudgetRaised",
    "BudgetWarning",
    "CandidateFinished",
    "CandidateSelected",
    "ConcurrencyChanged",
    "CriticVerdict",
    "DispatchPaused",
    "DispatchResumed",
    "FileChanged",
    "FindingPublished",
    "GateSkipped",
    "LLMUsage",
    "MergeApproved",
    "MergeConflict",
    "MergeQueued",
    "MergeRejected",
    "MergeTested",
    "MergeTesting",
    "MergeWaiting",
    "Merged",
    "NotifyFailed",
    "PlanApproved",
    "PlanProposed",
    "PlanRevised",
    "RerunOf",
    "RunConfigured",
    "RunFinished",
    "RunPaused",
    "RunResumed",
    "RunStarted",
    "SteerDelivered",
    "SteerSent",
    "TaskBlocked",
    "TaskCancelled",
    "TaskCommitted",
    "TaskFailed",
    "TaskFinished",
    "TaskFixing",
    "TaskQueued",
    "TaskStalled",
    "TaskStarted",
    "TaskTakenOver",
    "TaskWaiting",
    "TestsRan",
    "ToolCalled",
]
