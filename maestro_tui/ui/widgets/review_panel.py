"""The merge review's side panel: what the agent says, why the merge waits, what tests said."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

from maestro_tui.domain.state import TaskView
from maestro_tui.ui.resolutions import FileResolution, TrialOutcome

TEST_TAIL_LINES = 12


def render_review_panel(
    task: TaskView,
    resolutions: Sequence[FileResolution] = (),
    trial: TrialOutcome | None = None,
) -> Group:
    """The task's title, diff stat, wait reasons, summary, its tests, the tests of the merged
    tree (the gate's, and the reviewer's own test of a resolution), and the conflicts (pure)."""
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
    if task.gate in ("passed", "failed"):
        parts.append(Text("\nTests as merged (the gate)", "bold"))
        ok = task.gate == "passed"
        counts = f"{task.gate_n_passed or 0} passed, {task.gate_n_failed or 0} failed"
        parts.append(
            Text(f"{'✔ passed' if ok else '✘ failed'} · {counts}", "green" if ok else "red")
        )
        if not ok:
            parts.append(
                Text("\n".join(task.gate_tail.strip().splitlines()[-TEST_TAIL_LINES:]), "dim")
            )
    elif task.gate == "testing":
        parts.append(Text("\nTests as merged: running…", "yellow"))
    if trial is not None:
        parts.append(Text("\nYour resolution, tested (g)", "bold"))
        style = "green" if trial.passed else "red"
        parts.append(Text(f"{'✔ green' if trial.passed else '✘ red'} · {trial.detail}", style))
        if not trial.passed:
            parts.append(Text("\n".join(trial.tail.strip().splitlines()[-TEST_TAIL_LINES:]), "dim"))
    if resolutions:
        parts.append(Text("\nConflicts", "bold"))
        for res in resolutions:
            style = "green" if res.decided else "yellow"
            parts.append(Text(f"{'✔' if res.decided else '•'} {res.path}: {res.status()}", style))
    return Group(*parts)
