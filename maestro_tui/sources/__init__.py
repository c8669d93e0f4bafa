"""Plan sources that run nothing: workflows (task templates expanded over the repository's
files) and the inbox (a folder of issue files, one task each), with the path helpers both use.
"""

from maestro_tui.sources.inbox import (
    InboxError,
    classify_with_model,
    inbox_plan,
    load_inbox,
    review_hint,
)
from maestro_tui.sources.workflows import WorkflowError, load_workflows, parse_workflow

__all__ = [
    "InboxError",
    "WorkflowError",
    "classify_with_model",
    "inbox_plan",
    "load_inbox",
    "load_workflows",
    "parse_workflow",
    "review_hint",
]
