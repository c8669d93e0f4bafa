"""The tools' schemas and the argument check: every problem named, with what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_tui.config import Config
from maestro_tui.mcp_server.advice import ensemble_models, labels, model_for
from maestro_tui.mcp_server.schemas import BY_NAME, TOOLS, BadArguments, check_arguments
from maestro_tui.mcp_server.session import ToolError, stage_plan


def test_every_tool_has_an_object_schema_that_refuses_unknown_arguments() -> None:
    assert len(TOOLS) == 12 and all(t.name.startswith("maestro_") for t in TOOLS)
    for tool in TOOLS:
        assert tool.schema["type"] == "object" and tool.schema["additionalProperties"] is False
        for name, prop in tool.schema["properties"].items():
            assert prop.get("description") or prop.get("items"), f"{tool.name}.{name}"


def test_good_arguments_pass_unchanged() -> None:
    args = {
        "candidates": [{"content": "--- a/x", "label": "m"}],
        "mode": "vote",
        "test_results": [{"candidate": 1, "passed": True, "n_passed": 3}],
    }
    assert check_arguments(BY_NAME["maestro_select_best"], args) == args
    assert check_arguments(BY_NAME["maestro_workflow_state"], None) == {}


def test_each_problem_is_named_with_what_is_accepted() -> None:
    with pytest.raises(BadArguments) as caught:
        check_arguments(
            BY_NAME["maestro_run_stage"],
            {"stage": "debugging", "input": "  ", "confidence": 1.5, "ask": "yes", "extra": 1},
        )
    message = str(caught.value)
    assert message.startswith("maestro_run_stage: ")
    assert "'stage' must be one of analyze, hypothesize, implement, debug, improve" in message
    assert "got 'debugging' (did you mean 'debug'?)" in message
    assert "'input' must not be empty" in message
    assert "'confidence' must be from 0 to 1, got 1.5" in message
    assert "'ask' must be a boolean" in message
    assert "unknown argument 'extra'" in message
    with pytest.raises(BadArguments, match=r"'candidates' must hold 1 to 8 items, got 0"):
        check_arguments(BY_NAME["maestro_select_best"], {"candidates": []})
    with pytest.raises(BadArguments, match=r"'n' must be an integer .*got 2.5"):
        check_arguments(BY_NAME["maestro_ensemble_generate"], {"task": "t", "n": 2.5})


def test_models_by_name_by_provider_or_from_the_config() -> None:
    config = Config(
        model="demo",
        mcp_model="openai/gpt-4o-mini",
        mcp_ensemble_models=("anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash"),
    )
    assert model_for(config) == "openai/gpt-4o-mini"
    assert model_for(config, provider="gemini") == "gemini/gemini-2.5-flash"
    assert model_for(Config(), model="demo") == "demo/coder"
    with pytest.raises(ToolError, match="no configured model of provider 'mistral'"):
        model_for(config, provider="mistral")
    assert ensemble_models(config, (), (), None) == list(config.mcp_ensemble_models)
    assert ensemble_models(config, ("x/a", "x/b"), (), 3) == ["x/a", "x/b", "x/a"]
    assert ensemble_models(Config(model="demo"), (), (), None) == ["demo/coder"] * 3
    with pytest.raises(ToolError, match="no model is named"):  # never the demo for want of one
        model_for(Config())
    assert labels(["a", "b", "a"]) == ["a #1", "b", "a #2"]


def test_the_session_plan_is_the_workflow_in_order() -> None:
    plan = stage_plan("MCP session")
    assert [(t.id, t.depends_on) for t in plan.tasks] == [
        ("analyze", ()),
        ("hypothesize", ("analyze",)),
        ("implement", ("hypothesize",)),
        ("debug", ("implement",)),
        ("improve", ("debug",)),
    ]


async def test_outside_a_git_repository_every_tool_says_so(tmp_path: Path) -> None:
    from maestro_tui.mcp_server.fleet import Fleet
    from maestro_tui.mcp_server.session import McpSession
    from maestro_tui.mcp_server.tools import Tools

    session = McpSession(tmp_path, tmp_path / "m.db")
    tools = Tools(session, Fleet(session))
    text, data, failed = await tools.call("maestro_workflow_state", {})
    assert failed and "is not a git repository" in text
    assert "maestro-tui mcp serves the repository it starts in" in data["error"]
    text, _, failed = await tools.call("maestro_nonsense", {})
    assert failed and text.startswith("error: no tool 'maestro_nonsense'; the tools are ")
    await session.close()
    assert not (tmp_path / "m.db").exists()  # nothing was recorded
