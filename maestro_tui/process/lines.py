"""Lines of any length from a byte stream, and how much of a line a person is shown.

asyncio's `readline` gives up on lines over its buffer limit (64 KiB by default), and coding
CLIs print far longer ones: Claude Code's stream-json puts a whole file on one line when it
writes that file. A line is kept whole for whoever parses it; only what is displayed or kept
for the log is cut (`shorten`).
"""

from __future__ import annotations

# Characters of one line that reach the agent's log; the rest is counted, not kept.
DISPLAY_CHARS = 2000
# Past this a line is no longer held for parsing: its start is kept, the rest only counted.
MAX_LINE_BYTES = 64 * 1024 * 1024


def shorten(line: str, limit: int = DISPLAY_CHARS) -> str:
    """`line` cut to `limit` characters, saying how much was left out."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]} … [{len(line) - limit:,} more characters not shown]"


class LineSplitter:
    """Bytes in, whole lines out (without their newline), however long the lines are.

    A line longer than `max_line_bytes` keeps only its first `max_line_bytes`, so memory stays
    bounded even for a stream that never prints a newline.
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._max = max_line_bytes
        self._parts: list[bytes] = []
        self._size = 0
        self._dropped = 0  # bytes of the current line past the limit

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            self._keep(data[start:end])
            lines.append(self._take())
            start = end + 1
        if start < len(data):
            self._keep(data[start:])
        return lines

    def flush(self) -> bytes | None:
        """The last line when the stream ended without a newline, else None."""
        if not self._parts and not self._dropped:
            return None
        return self._take()

    @property
    def pending_bytes(self) -> int:
        return self._size + self._dropped

    def _keep(self, piece: bytes) -> None:
        room = self._max - self._size
        if len(piece) > room:
            self._dropped += len(piece) - max(room, 0)
            piece = piece[: max(room, 0)]
        if piece:
            self._parts.append(piece)
            self._size += len(piece)

    def _take(self) -> bytes:
        line = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        if self._dropped:
            line += f" … [{self._dropped:,} bytes over the line limit dropped]".encode()
        self._parts, self._size, self._dropped = [], 0, 0
        return line


def decode(line: bytes) -> str:
    """A line as text: invalid UTF-8 replaced, a trailing carriage return dropped."""
    text = line.decode("utf-8", errors="replace")
    return text[:-1] if text.endswith("\r") else text
