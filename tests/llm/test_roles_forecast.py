"""Role prompts and plugins; the plan cost estimate."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from maestro_tui.domain.plan import ROLES, Plan, Task
from maestro_tui.llm.demo.model import SIMULATED_PRICE
from maestro_tui.llm.forecast import describe_estimate, estimate_cost
from maestro_tui.llm.roles import ROLE_PROMPTS, RoleError, load_roles, role_summaries

# Objects an entry point can name, for the plugin tests.
SECURITY_PROMPT = "You are a security auditor. Look for injection and secrets."
NOT_A_PROMPT = 42


def security_prompt() -> str:
    return SECURITY_PROMPT


def entry(name: str, obj: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{obj}", group="maestro_tui.roles")


def test_every_domain_role_has_a_prompt() -> None:
    assert set(ROLES) <= set(ROLE_PROMPTS)
    assert "- tester: You are a test engineer." in role_summaries(ROLE_PROMPTS)


def test_plugins_add_roles() -> None:
    roles = load_roles(
        lambda: [entry("security", "SECURITY_PROMPT"), entry("sec2", "security_prompt")]
    )
    assert roles["security"] == roles["sec2"] == SECURITY_PROMPT
    assert roles["coder"] == ROLE_PROMPTS["coder"]


@pytest.mark.parametrize(
    ("obj", "why"),
    [("missing_name", "failed to load: AttributeError"), ("NOT_A_PROMPT", "must be")],
)
def test_a_broken_plugin_is_named_in_the_error(obj: str, why: str) -> None:
    with pytest.raises(RoleError, match=f"role plugin 'broken' .*{obj}.*{why}"):
        load_roles(lambda: [entry("broken", obj)])


def test_no_plugins_installed_gives_the_builtin_roles() -> None:
    assert load_roles() == ROLE_PROMPTS


PLAN = Plan(
    goal="g",
    tasks=tuple(Task(id=f"t{n}", title="t", prompt="p", files=("a.py",)) for n in range(10)),
)


def test_estimate_is_a_range_from_the_configured_price() -> None:
    estimate = estimate_cost(PLAN, "openai/custom", {"openai/custom": (1.0, 4.0)})
    assert estimate is not None
    low, high = estimate
    assert 0 < low < high
    doubled = estimate_cost(PLAN, "openai/custom", {"openai/custom": (2.0, 8.0)})
    assert doubled == pytest.approx((2 * low, 2 * high))
    assert describe_estimate(estimate).startswith("cost estimate: $")


def test_estimate_is_none_for_an_unpriced_model() -> None:
    assert estimate_cost(PLAN, "openai/no-such-model-xyz", {}) is None
    assert describe_estimate(None) == "cost estimate: unknown (no price for this model)"


def test_demo_model_is_estimated_at_its_simulated_rate() -> None:
    demo = estimate_cost(PLAN, "demo/coder")
    assert demo == estimate_cost(PLAN, "x", {"x": SIMULATED_PRICE})
