"""TaskReporter: turns what a worker reports into events for its task and attempt."""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus


class TaskReporter:
    """Implements agents.base.Reporter: each line a worker reports becomes one AgentOutput.

    Workers hand over whole lines (the LLM worker assembles streamed fragments itself), so
    text is only split here, never held back: the log stays in the order things happened.
    """

    def __init__(
        self,
        bus: EventBus,
        task_id: str,
        attempt: int,
        *,
        candidate: int | None = None,
        purpose: str = "work",
        worker: str = "",
    ) -> None:
        self._bus = bus
        self._worker = worker
        self._task = task_id
        self._attempt = attempt
        self._candidate = candidate
        self._purpose = purpose  # "work", "critic" or "judge": what its model calls are for

    def output(self, text: str, stream: str = "stdout") -> None:
        for line in text.split("\n"):
            self._bus.emit(
                ev.AgentOutput, task=self._task, attempt=self._attempt, text=line, stream=stream
            )

    def usage(
        self,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float | None,
        latency_s: float = 0.0,
        simulated: bool = False,
    ) -> None:
        self._bus.emit(
            ev.LLMUsage,
            task=self._task,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=cost_usd,
            latency_s=latency_s,
            simulated=simulated,
            attempt=self._attempt,
            candidate=self._candidate,
            purpose=self._purpose,
        )

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None:
        self._bus.emit(
            ev.ToolCalled,
            task=self._task,
            attempt=self._attempt,
            tool=tool,
            args=args[:300],
            ok=ok,
            error=error[:500],
        )

    def finding(self, text: str) -> None:
        self._bus.emit(ev.FindingPublished, task=self._task, text=text[:2000])

    def file_changed(self, path: str, change: str = "modified") -> None:
        self._bus.emit(ev.FileChanged, task=self._task, path=path, change=change)

    def session(self, session_id: str, resumed: bool = False) -> None:
        self._bus.emit(
            ev.AgentSession,
            task=self._task,
            attempt=self._attempt,
            session_id=session_id,
            worker=self._worker,
            resumed=resumed,
            candidate=self._candidate,
        )

    def waiting(self, reason: str, retry_in_s: float) -> None:
        self._bus.emit(
            ev.TaskWaiting,
            task=self._task,
            attempt=self._attempt,
            reason=reason[:500],
            retry_in_s=round(retry_in_s, 3),
        )

    def stalled(self, silent_s: float) -> None:
        self._bus.emit(
            ev.TaskStalled, task=self._task, attempt=self._attempt, silent_s=round(silent_s, 1)
        )
