"""Fixtures for the store tests: a store on tmp_path and a bus that feeds it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "maestro.db")
    yield s
    await s.close()


@pytest.fixture
def bus_for() -> Callable[..., EventBus]:
    """A bus for a run id, feeding the given store."""

    def make(store: Store, run_id: str = "20250301-120000-ab12", **kwargs: Any) -> EventBus:
        bus = EventBus(run_id, **kwargs)
        bus.subscribe(store.append)
        return bus

    return make
