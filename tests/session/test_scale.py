"""Many agents at once lose no event: what the bus published is what the store holds.

The 200-agent figure is bench/bench_scale.py's; this is its small, quick guard for CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from tests.support.scale_run import Published, scale_session, tally

AGENTS = 30
pytestmark = pytest.mark.slow  # 30 worktrees, their git and test commands: ~10 s


class AtOnce:
    """The most tasks started and not yet finished at any moment of the run."""

    def __init__(self) -> None:
        self.now = self.most = 0

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.TaskStarted):
            self.now += 1
            self.most = max(self.most, self.now)
        elif isinstance(event, ev.TaskFinished | ev.TaskFailed):
            self.now -= 1


async def test_thirty_agents_at_once_lose_no_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Slow enough that every agent is still working when the last one starts.
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0.2")
    published = Published()
    session = await scale_session(tmp_path, AGENTS, published)
    at_once = AtOnce()
    session.orch.bus.subscribe(at_once)
    try:
        await session.orch.run()
        result = await tally(session, published)
    finally:
        await session.aclose()
    assert at_once.most == AGENTS
    assert result.merged == AGENTS and result.run_status == "succeeded"
    assert result.published > AGENTS * 10  # every agent's output, tools, commits, merges
    assert result.differ_by_type == {}
    assert result.stored == result.published
    assert result.statuses_equal
