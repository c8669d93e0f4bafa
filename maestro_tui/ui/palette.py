"""The command palette (Ctrl+P) offers the current screen's own keys, found by name.

Built from the screen's BINDINGS, so a key added to a screen is in the palette too: the name
is the binding's tooltip (or its footer description), the help is the action's docstring.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen


def screen_commands(screen: Screen[Any]) -> Iterator[tuple[str, str, str]]:
    """(name, help, action) for each binding of `screen` worth offering: shown in the footer, or
    given a tooltip to be found by name."""
    seen: set[str] = set()
    for binding in Binding.make_bindings(type(screen).BINDINGS):
        if not (binding.show or binding.tooltip) or binding.action in seen:
            continue
        seen.add(binding.action)
        name = binding.tooltip or binding.description
        if not name:
            continue
        method = getattr(screen, "action_" + binding.action.partition("(")[0], None)
        doc = (method.__doc__ or "").strip().splitlines() if method else []
        key = binding.key_display or binding.key.split(",")[0]
        help_text = (doc[0].partition(": ")[2] or doc[0]) if doc else ""
        yield name[:1].upper() + name[1:], f"{help_text} ({key})".strip(), binding.action


class ScreenKeysProvider(Provider):
    """The keys of the screen the palette was opened on, as commands."""

    async def _run(self, action: str) -> None:
        await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for name, help_text, action in screen_commands(self.screen):
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, help_text, action in screen_commands(self.screen):
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), partial(self._run, action), help=help_text
                )
