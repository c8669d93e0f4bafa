"""maestro_get_metrics: the session's coordination metrics, and those of the runs it started.

The session is a run like any other to `compute_metrics`, over the stages it visited (a stage
not reached is not a failure): a stage's consults are its work (one agent thinking), an
ensemble's losing candidates and the judge's calls are overhead, and each selection is a
decision that tests did or did not back. Merge success and cost per merged task come from the
runs the session started, where merges happen; the cost is everything the session spent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from maestro_tui.domain.metrics import RunMetrics, compute_metrics
from maestro_tui.mcp_server.fleet import Fleet
from maestro_tui.mcp_server.session import McpSession


def metric_rows(m: RunMetrics) -> list[dict[str, Any]]:
    return [
        {
            "name": metric.name,
            "value": metric.value,
            "unit": metric.unit,
            "target": metric.target,
            "meets_target": metric.meets_target,
            "detail": metric.detail,
        }
        for metric in m.metrics()
    ]


async def session_metrics(session: McpSession, fleet: Fleet) -> dict[str, Any]:
    await session.store.flush()
    events = await session.store.load_events(session.run_id)
    state = session.state
    visited = replace(state, tasks={k: t for k, t in state.tasks.items() if t.attempts})
    own = compute_metrics(events, visited)
    runs: dict[str, Any] = {}
    merged = rejected = conflicted = 0
    for run_id, live in fleet.runs.items():
        if live.running:
            await live.session.store.flush()
        m = compute_metrics(await session.store.load_events(run_id))
        merged += m.merged
        rejected += m.rejected
        conflicted += m.conflicted
        runs[run_id] = {"status": live.state.status.value, "metrics": metric_rows(m)}
    decided = merged + rejected + conflicted
    spent = session.spent_usd()
    overall = replace(
        own,
        merged=merged,
        rejected=rejected,
        conflicted=conflicted,
        merge_success_rate=merged / decided if decided else None,
        cost_usd=spent,
        cost_per_merged_task=spent / merged if merged else None,
    )
    return {
        "session": session.run_id,
        "metrics": metric_rows(overall),
        "model_calls": own.model_calls,
        "stages_visited": own.tasks_total,
        "decisions": own.decisions,
        "decisions_backed_by_tests": own.decisions_backed,
        "cost_usd": round(spent, 6),
        "cost_simulated": own.cost_simulated,
        "budget_usd": session.config.mcp_budget_usd,
        "runs": runs,
    }
