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


def relevant_findings(task: Task, state: RunState, limit: int = FINDINGS_LIMIT) -> list[str]:
    """Findings other tasks published, most relevant first: from upstream tasks, then those
    that name one of this task's files, then the newest. Bounded in count."""
    upstream = set(upstream_of(task.id, state))
    names = {f for f in task.files} | {f.rsplit("/", 1)[-1] for f in task.files}
    ranked = []
    for order, (source, text) in enumerate(state.findings):
        if source == task.id:
            continue
        mentions = any(name and name in text for name in names)
        ranked.append(((source not in upstream, not mentions, -order), source, text))
    ranked.sort()
    return [f"{source}: {_clip(text, 300)}" for _key, source, text in ranked[:limit]]


def task_context(task: Task, state: RunState, repo_root: Path, standards_file: str | None) -> str:
    """Coding standards, short summaries of upstream tasks, then the most relevant findings."""
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
    findings = relevant_findings(task, state)
    if findings:
        parts.append("## Findings from other agents\n" + "\n".join(f"- {f}" for f in findings))
    return "\n\n".join(parts)
