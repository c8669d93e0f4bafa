"""Command palette entries for the dashboard's controls (Ctrl+P)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (name, help, action on the screen; "app." actions run on the app)
DASHBOARD_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Pause / resume dispatch", "stop or restart starting new tasks (p)", "toggle_pause"),
    ("Cancel task", "cancel the selected task; its dependents are blocked (x)", "cancel_task"),
    ("More agents", "raise the concurrency by one (+)", "set_agents(1)"),
    ("Fewer agents", "lower the concurrency by one (-)", "set_agents(-1)"),
    ("Raise budget", "set a higher $ budget (b)", "raise_budget"),
    ("Open merge queue", "focus the merges waiting for review (m)", "merge_queue"),
    ("Show all agents' logs", "the combined log view (0)", "show_agent(0)"),
    ("Switch theme", "pick a colour theme", "app.change_theme"),
    ("Quit", "leave; a running run is stopped so it can be resumed (q)", "quit"),
)


class DashboardCommands(Provider):
    """The dashboard's key bindings as palette commands, offered only on a run's screen."""

    def _commands(self) -> list[tuple[str, str, str]]:
        if not hasattr(self.screen, "action_toggle_pause"):
            return []
        return list(DASHBOARD_COMMANDS)

    async def _run(self, action: str) -> None:
        if action.startswith("app."):
            await self.app.run_action(action[4:])
        else:
            await self.screen.run_action(action)

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), partial(self._run, action), help=help_text
                )
