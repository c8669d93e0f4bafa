"""Small helpers shared by the real-CLI tests."""

from __future__ import annotations

from tests.agents.servers.core import RecordedRequest

BIG_FILE_BYTES = 200 * 1024


def big_text(size: int = BIG_FILE_BYTES) -> str:
    """About `size` bytes of numbered lines, so a truncated or reordered write shows."""
    lines = []
    total = 0
    n = 0
    while total < size:
        n += 1
        line = f"{n:06d} the quick brown fox jumps over the lazy dog\n"
        lines.append(line)
        total += len(line)
    return "".join(lines)


def gaps(requests: list[RecordedRequest]) -> list[float]:
    """Seconds between consecutive requests: how long a CLI waited before retrying."""
    return [b.at - a.at for a, b in zip(requests, requests[1:], strict=False)]
