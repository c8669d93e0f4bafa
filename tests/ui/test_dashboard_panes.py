"""The dashboard's findings, file activity, task verification details and metrics panes."""

from __future__ import annotations

from textual.widgets import TabbedContent

from maestro_tui.domain import events as ev
from maestro_tui.ui.widgets.file_activity import FileActivity
from maestro_tui.ui.widgets.findings import MAX_FINDINGS, Findings
from maestro_tui.ui.widgets.run_metrics import METRIC_EVENTS, RunMetricsLine, render_metrics
from tests.ui.conftest import dashboard_app, screen_text, shown
from tests.ui.sample_run import middle_events, sample_events, sample_session


async def test_findings_newest_first_and_bounded_files_in_their_tab() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        text = screen_text(app)
        assert text.index("[docs] usage examples") < text.index("[mul] calc.ops.mul")
        for n in range(MAX_FINDINGS + 10):
            bus.emit(ev.FindingPublished, task="strings", text=f"finding {n}")
        await shown(pilot)
        findings = str(app.screen.query_one(Findings).render()).splitlines()
        assert len(findings) == MAX_FINDINGS
        assert findings[0] == f"[strings] finding {MAX_FINDINGS + 9}"
        app.screen.query_one(TabbedContent).active = "files-tab"  # what the tab key would do
        await pilot.pause()
        assert app.screen.query_one(FileActivity).files("strings") == [
            ("calc/__init__.py", "modified"),
            ("calc/strings.py", "added"),
        ]
        assert "+calc/strings.py" in screen_text(app)


async def test_task_detail_shows_fix_rounds_the_critic_and_who_chose_the_candidate() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        text = screen_text(app)  # version-two, on the first row, is selected
        assert "attempts 1 · 1 fix round" in text
        assert "ensemble candidate 2 of 2 chosen by tests_first" in text
        assert "critic   approved: small and tested" in text
        bus.emit(ev.CandidateSelected, task="version-two", candidate=1, method="human")
        await shown(pilot)
        assert "candidate 1 of 2 chosen by human" in screen_text(app)


async def test_words_keep_their_spaces_between_styled_pieces() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        text = screen_text(app)
        assert "version-two ✓ merged  Bump the version to 2" in text
        assert "+3 −1 in 1 file" in text
        assert "$0.0560 of $0.50" in text


async def test_metrics_keep_only_what_they_read_and_recompute_at_most_once_a_second() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        line = app.screen.query_one(RunMetricsLine)
        wanted = sum(1 for e in sample_events() if isinstance(e, METRIC_EVENTS))
        assert line.kept == wanted
        text = screen_text(app)
        assert "overhead 11% (<300%) ok" in text
        assert "merged 75% (>=80%) miss" in text
        assert "test signal 100% (>80%) ok" in text
        first = line.metrics
        line.min_interval_s = 600.0  # a slow machine must not let the second pass mid-test
        for n in range(3000):  # a burst of output: none of it is kept
            bus.emit(ev.AgentOutput, task="strings", attempt=1, text=f"line {n}")
        bus.emit(ev.Merged, task="version-three", commit="e" * 40)
        await shown(pilot)
        assert line.kept == wanted + 1
        assert line.metrics is first  # within the interval: not recomputed yet
        line.recompute()  # what the pending timer does at the end of the interval
        assert line.metrics is not None and line.metrics.merged == 4
        assert "merged 100% (>=80%) ok" in screen_text(app)


def test_metrics_colour_ok_green_and_miss_red() -> None:
    from maestro_tui.domain.metrics import compute_metrics

    text = render_metrics(compute_metrics(sample_events()))
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles[" ok"] == "green" and styles[" miss"] == "bold red"


def test_metrics_read_n_a_not_miss_until_a_task_finishes() -> None:
    from maestro_tui.domain.metrics import compute_metrics
    from tests.domain.test_metrics import running_run

    assert "Ec n/a" in render_metrics(compute_metrics(running_run().events)).plain
    assert "miss" not in render_metrics(compute_metrics(running_run().events)).plain
    failed = running_run().emit(ev.TaskFailed, task="a", attempt=1, reason="gave up")
    assert "Ec 0.00 (>0.4) miss" in render_metrics(compute_metrics(failed.events)).plain


async def test_condensed_layout_hides_the_activity_tabs_and_metrics() -> None:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        assert not app.screen.query_one("#activity").display
        assert not app.screen.query_one(RunMetricsLine).display
        assert "findings" not in screen_text(app)
