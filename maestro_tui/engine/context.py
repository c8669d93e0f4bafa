"""Context hygiene: what a task is told beyond its own prompt and files, and nothing more."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain.plan import Task
from maestro_tui.domain.state import RunState

STANDARDS_LIMIT = 4000
SUMMARY_LIMIT = 400
FINDINGS_LIMIT = 8


def upstream_of(task_id: str, state: RunState) -> list[str]:
    """Every task this one depends on, directly or not, nearest first."""
    seen: list[str] = []
    frontier = list(state.tasks[task_id].depends_on) if task_id in state.tasks else []
    while frontier:
        nxt: list[str] = []
        for dep in frontier:
            if dep not in seen and dep in state.tasks:
                seen.append(dep)
                nxt.extend(state.tasks[dep].depends_on)
        frontier = nxt
    return seen


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def task_context(task: Task, state: RunState, repo_root: Path, standards_file: str | None) -> str:
    """Coding standards, then short summaries and findings of upstream tasks only."""
    parts: list[str] = []
    if standards_file:
        path = repo_root / standards_file
        try:
            parts.append("## Coding standards\n" + _clip(path.read_text("utf-8"), STANDARDS_LIMIT))
        except OSError:
            pass
    upstream = upstream_of(task.id, state)
    if upstream:
        lines = []
        for dep in upstream:
            view = state.tasks[dep]
            summary = _clip(view.summary or "(no summary)", SUMMARY_LIMIT)
            lines.append(f"- {dep} ({view.title}): {summary}")
        parts.append("## Work already merged that this task builds on\n" + "\n".join(lines))
        findings = [text for source, text in state.findings if source in upstream]
        if findings:
            chosen = findings[-FINDINGS_LIMIT:]
            parts.append(
                "## Findings from that work\n" + "\n".join(f"- {_clip(f, 300)}" for f in chosen)
            )
    return "\n\n".join(parts)
