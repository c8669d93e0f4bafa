"""Messages for a run's running agents that come from another process (`maestro-tui say`).

Only the process driving a run may emit its events, so another process leaves a request in
the database; the driving process takes it, steers the agent (which is an event), and writes
back what became of it, which the sender waits for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from maestro_tui.store.db import Store


@dataclass(frozen=True)
class SteerRequest:
    id: int
    task: str
    text: str


async def post(store: Store, run_id: str, task: str, text: str) -> int:
    """Leave a message for `task` of `run_id`; returns its id, to wait for the answer."""
    return await store.execute(
        "INSERT INTO steer_requests (run_id, task_id, text, created_at) VALUES (?, ?, ?, ?)",
        (run_id, task, text, time.time()),
    )


async def open_requests(store: Store, run_id: str) -> list[SteerRequest]:
    rows = await store.read(
        "SELECT id, task_id, text FROM steer_requests"
        " WHERE run_id = ? AND answered_at IS NULL ORDER BY id",
        (run_id,),
    )
    return [SteerRequest(int(r[0]), str(r[1]), str(r[2])) for r in rows]


async def answer(store: Store, request_id: int, text: str) -> None:
    await store.execute(
        "UPDATE steer_requests SET answered_at = ?, answer = ? WHERE id = ?",
        (time.time(), text, request_id),
    )


async def answer_of(store: Store, request_id: int) -> str | None:
    rows = await store.read("SELECT answer FROM steer_requests WHERE id = ?", (request_id,))
    return rows[0][0] if rows and rows[0][0] is not None else None
