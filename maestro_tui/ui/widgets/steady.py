"""Redrawing a Static without re-laying out the screen when its size stays the same.

`Static.update` asks for a layout by default, and a layout re-renders the whole screen: with
a busy run that is several times a second, for text whose height did not change (a counter
ticking, another task of the same shape selected).
"""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static


def update_steady(static: Static, content: VisualType) -> None:
    """`static.update(content)`, laid out again only if the content's height changed.

    The width is the parent's to decide (not the content's) wherever this is used, so the
    height at the current width is all the layout would look at.
    """
    width = static.scrollable_content_region.width
    if not static.is_mounted or width <= 0:
        static.update(content)
        return
    styles: Any = static.styles  # what Widget.get_content_height passes, too
    before = static.visual.get_height(styles, width)
    static.update(content, layout=False)
    if static.visual.get_height(styles, width) != before:
        static.refresh(layout=True)
