"""The merge review's side panel: what the agent says, why the merge waits, what tests said."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

from maestro_tui.domain.state import TaskView
from maestro_tui.ui.resolutions import FileResolution

TEST_TAIL_LINES = 12


def render_review_panel(task: TaskView, resolutions: Sequence[FileResolution] = ()) -> Group:
    """The task's title, diff stat, wait reasons, summary, tests and conflict decisions (pure)."""
    parts: list[Text] = [
        Text(task.title, "bold"),
        Text(f"{task.id} · {task.role} · {task.status.value}", "dim"),
        Text(f"+{task.insertions} −{task.deletions} in {len(task.files_changed)} file(s)"),
    ]
    if task.wait_reasons:
        parts.append(Text("\nWaiting because", "bold"))
        parts.extend(Text(f"• {reason}", "yellow") for reason in task.wait_reasons)
    parts += [Text("\nSummary", "bold"), Text(task.summary.strip() or "(none)")]
    parts.append(Text("\nTests", "bold"))
    if task.tests_passed is None:
        parts.append(Text("not run", "dim"))
    else:
        mark, style = ("✔ passed", "green") if task.tests_passed else ("✘ failed", "red")
        counts = f"{task.n_passed or 0} passed, {task.n_failed or 0} failed"
        parts.append(Text(f"{mark} · {counts}", style))
        tail = task.test_tail.strip().splitlines()[-TEST_TAIL_LINES:]
        parts.append(Text("\n".join(tail), "dim"))
    if resolutions:
        parts.append(Text("\nConflicts", "bold"))
        for res in resolutions:
            style = "green" if res.decided else "yellow"
            parts.append(Text(f"{'✔' if res.decided else '•'} {res.path}: {res.status()}", style))
    return Group(*parts)
