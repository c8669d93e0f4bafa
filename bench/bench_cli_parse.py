"""Coding-CLI output into events: Claude Code's stream-json parser, through the bus.

A recorded 10k-line session of the real Claude Code in our preset's mode (stream-json with
partial messages: bench/data/claude-stream.jsonl.xz, made by bench/record_claude_stream.py)
is fed line by line to its parser, whose Reporter emits through a real EventBus (with a
subscriber, as the store and the reducer are). Baseline, in the same run: a bare `json.loads`
over the same lines. Best of several of each; target ≤ 3×.

Run: `python -m bench.bench_cli_parse` (or `make bench`).
"""

from __future__ import annotations

import gc
import json
import lzma
import sys
import time
from pathlib import Path

from maestro_tui.agents.claude import ClaudeStream
from maestro_tui.domain.events import Event
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.reporter import TaskReporter

TRANSCRIPT = Path(__file__).parent / "data" / "claude-stream.jsonl.xz"
REPEATS = 7
RATIO_TARGET = 3.0


def price(model: str, tokens_in: int, tokens_out: int) -> float | None:
    return (tokens_in * 3.0 + tokens_out * 15.0) / 1e6  # claude-sonnet-4-5, as litellm has it


def bare(lines: list[str]) -> float:
    started = time.perf_counter()
    for line in lines:
        json.loads(line)
    return time.perf_counter() - started


def through_the_bus(lines: list[str]) -> tuple[float, int]:
    bus = EventBus("bench")
    seen: list[Event] = []
    bus.subscribe(seen.append)
    stream = ClaudeStream(TaskReporter(bus, "task", 1, worker="claude"), price)
    stream.worktree = Path("$WORKTREE")
    started = time.perf_counter()
    for line in lines:
        stream.feed(line, "stdout")
    stream.finish(0)
    return time.perf_counter() - started, len(seen)


def best(fn: object, lines: list[str]) -> tuple[float, int]:
    times, count = [], 0
    for _ in range(REPEATS):
        gc.collect()
        result = fn(lines)  # type: ignore[operator]
        if isinstance(result, tuple):
            elapsed, count = result
        else:
            elapsed = result
        times.append(elapsed)
    return min(times), count


def main() -> int:
    lines = lzma.decompress(TRANSCRIPT.read_bytes()).decode().splitlines()
    size = sum(len(line) for line in lines)
    baseline, _ = best(bare, lines)
    ours, events = best(through_the_bus, lines)
    ratio = ours / baseline
    per_line = 1e6 / len(lines)
    print(f"transcript: {len(lines):,} lines, {size / 1e6:.1f} MB, Claude Code stream-json")
    print(f"json.loads loop: {baseline * 1e3:7.1f} ms  ({baseline * per_line:.1f} µs/line)")
    print(
        f"parser + bus:    {ours * 1e3:7.1f} ms  ({ours * per_line:.1f} µs/line), {events:,} events"
    )
    verdict = "ok" if ratio <= RATIO_TARGET else "MISS"
    print(f"ratio:           {ratio:7.2f}×  (target ≤ {RATIO_TARGET:g}×)  {verdict}")
    return 0 if ratio <= RATIO_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
