"""A run read back from the store: replayed to any point, or followed while another process
drives it."""

from maestro_tui.engine.history.follower import PROC_LOCKS, Follower, lock_holder
from maestro_tui.engine.history.replayer import (
    READ_CHUNK,
    TAIL_LINES,
    Replayer,
    decode_rows,
    last_lines,
    output_tails,
    read_rows,
)

__all__ = [
    "PROC_LOCKS",
    "READ_CHUNK",
    "TAIL_LINES",
    "Follower",
    "Replayer",
    "decode_rows",
    "last_lines",
    "lock_holder",
    "output_tails",
    "read_rows",
]
