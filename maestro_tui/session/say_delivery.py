"""The driving process's side of `maestro-tui say`: take the messages other processes left for
this run's agents, steer them, and answer each request."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

from maestro_tui.engine.orchestrator import Orchestrator
from maestro_tui.engine.steering import SteerRefused
from maestro_tui.store import messages
from maestro_tui.store.db import Store, StoreError

POLL_S = 0.25


async def relay_messages(store: Store, orch: Orchestrator, poll_s: float = POLL_S) -> None:
    """Until cancelled: deliver each waiting request and write back what became of it."""
    run_id = orch.bus.run_id
    while True:
        try:
            for request in await messages.open_requests(store, run_id):
                try:
                    delivery = orch.steer(request.task, request.text, source="cli")
                    answer = f"sent: the agent takes it {delivery}"
                except SteerRefused as exc:
                    answer = f"refused: {exc}"
                await messages.answer(store, request.id, answer)
        except StoreError:
            return  # the store is closing or failed; its own error reaches the run
        await asyncio.sleep(poll_s)


def start_relay(stack: AsyncExitStack, store: Store, orch: Orchestrator) -> None:
    """Relay for as long as the session is open; stopped before the store closes."""
    task = asyncio.get_running_loop().create_task(
        relay_messages(store, orch), name=f"maestro-relay:{orch.bus.run_id}"
    )

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
