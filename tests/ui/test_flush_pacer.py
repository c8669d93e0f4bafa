"""FlushPacer: the live dashboard feeds every tick while that is cheap, less often when not."""

from __future__ import annotations

from maestro_tui.ui.bridge import FlushPacer


def test_cheap_batches_go_out_every_tick() -> None:
    pacer = FlushPacer(ratio=2.0, max_wait_s=0.5)
    assert pacer.ready(0.0)
    pacer.flushed(0.0)
    assert not pacer.ready(0.01)  # not on screen yet
    pacer.shown(0.01)  # 10 ms to show: wait 20 ms more, less than a 50 ms tick
    assert pacer.ready(0.05)


def test_a_costly_batch_spaces_out_the_next_up_to_the_cap() -> None:
    pacer = FlushPacer(ratio=2.0, max_wait_s=0.5)
    pacer.flushed(1.0)
    pacer.shown(1.1)  # 100 ms to show: the next after 200 ms
    assert not pacer.ready(1.25)
    assert pacer.ready(1.31)
    pacer.flushed(2.0)
    pacer.shown(3.0)  # a whole second: capped at half a second
    assert not pacer.ready(3.4)
    assert pacer.ready(3.5)


def test_a_frame_never_reported_does_not_stop_the_feed() -> None:
    pacer = FlushPacer(ratio=2.0, max_wait_s=0.5)
    pacer.flushed(0.0)
    assert not pacer.ready(0.4)
    assert pacer.ready(0.6)
