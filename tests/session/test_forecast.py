"""The cost estimate before a run covers coding CLIs too, on the model each will use."""

from __future__ import annotations

import pytest

from maestro_tui.config import Config
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.session.lifecycle import forecast


def plan(*workers: str) -> Plan:
    return Plan(
        goal="g",
        tasks=tuple(
            Task(id=f"t{i}", title="T", prompt="p", files=("a.py",), worker=w)
            for i, w in enumerate(workers)
        ),
    )


def dollars(text: str) -> tuple[float, float]:
    low, high = text.removeprefix("cost estimate: $").split(" ")[0].split("–$")
    return float(low), float(high)


def test_a_cli_is_estimated_on_its_own_model_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_MODEL", "claude-sonnet-4-5")
    one = forecast(Config(), plan("claude"))
    assert one is not None and one.endswith("(an estimate)")
    two = forecast(Config(), plan("claude", "claude"))
    assert two is not None and dollars(two)[0] == pytest.approx(2 * dollars(one)[0])
    # Claude Code resends its ~22k-token prompt each turn: more than the LLM worker would.
    llm = forecast(Config(model="claude-sonnet-4-5"), plan("llm"))
    assert llm is not None and dollars(llm)[0] < dollars(one)[0]


def test_a_model_nobody_can_price_is_said_to_be_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.setenv("GEMINI_MODEL", "gemini-2.5-flash")
    text = forecast(Config(), plan("gemini", "codex"))
    assert text is not None and text.startswith("cost estimate: $")
    assert text.endswith("unknown for 1 task(s) on an unnamed model")
    assert forecast(Config(), plan("codex")) == (
        "cost estimate: unknown (no price for this model) (an estimate)"
    )


def test_plain_commands_have_no_estimate() -> None:
    from maestro_tui.config import WorkerSpec

    config = Config(workers={"x": WorkerSpec(name="x", argv=("x", "{prompt}"))})
    assert forecast(config, plan("x")) is None
