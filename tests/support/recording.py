"""A Reporter test double shared by the worker tests: it keeps every call, for assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingReporter:
    """A Reporter that keeps every call, for assertions."""

    outputs: list[tuple[str, str]] = field(default_factory=list)
    usages: list[dict[str, Any]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)
    sessions: list[tuple[str, bool]] = field(default_factory=list)
    waits: list[tuple[str, float]] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.outputs.append((text, stream))

    def usage(
        self,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float | None,
        latency_s: float = 0.0,
        simulated: bool = False,
    ) -> None:
        self.usages.append(
            dict(
                model=model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost_usd=cost_usd,
                latency_s=latency_s,
                simulated=simulated,
            )
        )

    def tool(self, tool: str, args: str = "", ok: bool = True, error: str = "") -> None:
        self.tools.append(dict(tool=tool, args=args, ok=ok, error=error))

    def finding(self, text: str) -> None:
        self.findings.append(text)

    def file_changed(self, path: str, change: str = "modified") -> None:
        self.files.append((path, change))

    def session(self, session_id: str, resumed: bool = False) -> None:
        self.sessions.append((session_id, resumed))

    def waiting(self, reason: str, retry_in_s: float) -> None:
        self.waits.append((reason, retry_in_s))

    def stalled(self, silent_s: float) -> None:
        self.stalls.append(silent_s)

    def stdout(self) -> list[str]:
        return [text for text, stream in self.outputs if stream == "stdout"]
