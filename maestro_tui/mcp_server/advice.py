"""Consults and ensembles: other models' text advice on packed context, and nothing else.

The advisors get no tools: they answer in text, and only the calling agent acts (the
tool-coordination trade-off: tool-heavy work gets worse when several agents run tools).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from maestro_tui.config import Config
from maestro_tui.domain.stages import RULES, Stage
from maestro_tui.engine.context import PackedContext, pack_context
from maestro_tui.mcp_server.session import McpSession, ToolError

ADVISOR = (
    "You advise a coding agent who is in charge of the work and runs every tool itself. "
    "Answer with text advice only: you cannot run commands, read more files or edit anything. "
    "Be specific and brief, and say what you are unsure of."
)


@dataclass(frozen=True)
class Answer:
    """One model's answer (or why there is none), with what it cost."""

    label: str
    model: str
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    simulated: bool = False
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "model": self.model, "content": self.text}
        out.update(tokens_in=self.tokens_in, tokens_out=self.tokens_out, cost_usd=self.cost_usd)
        if self.error:
            out["error"] = self.error
        return out


def configured_models(config: Config) -> list[str]:
    """The models a session may name by provider: [mcp] model and ensemble models, [llm] model."""
    names = [config.mcp_model, *config.mcp_ensemble_models, config.model]
    return list(dict.fromkeys(n for n in names if n))


def model_for(config: Config, model: str | None = None, provider: str | None = None) -> str:
    """The litellm model to ask: the one named, a provider's first configured one, or [mcp]'s."""
    from maestro_tui.llm.models import resolve_model

    if model and provider:
        raise ToolError("give model or provider, not both")
    if provider:
        found = [m for m in configured_models(config) if m.split("/", 1)[0] == provider]
        if not found:
            known = ", ".join(configured_models(config))
            raise ToolError(
                f"no configured model of provider '{provider}' (configured: {known}); pass a "
                "model, or list it in [mcp] ensemble_models in maestro.toml"
            )
        model = found[0]
    model = model or config.mcp_model or config.model
    if not model:
        raise ToolError(
            "no model is named: pass one, or set [mcp] model or [llm] model in maestro.toml"
        )
    return resolve_model(model, "coder")


def ensemble_models(
    config: Config, models: Sequence[str], providers: Sequence[str], n: int | None
) -> list[str]:
    """One model per candidate: those named (cycled to n), else [mcp] ensemble_models, else
    [mcp] model n times."""
    chosen = [model_for(config, model=m) for m in models]
    chosen += [model_for(config, provider=p) for p in providers]
    if not chosen:
        chosen = [model_for(config, model=m) for m in config.mcp_ensemble_models]
    if not chosen:
        chosen = [model_for(config)] * (n or config.mcp_ensemble_n)
    count = n or len(chosen)
    return [chosen[i % len(chosen)] for i in range(count)]


def labels(models: Sequence[str]) -> list[str]:
    """Each candidate's label: its model, numbered where a model answers more than once."""
    out = []
    for i, model in enumerate(models):
        if models.count(model) > 1:
            out.append(f"{model} #{models[: i + 1].count(model)}")
        else:
            out.append(model)
    return out


async def pack(
    session: McpSession,
    stage: Stage,
    files: Sequence[str],
    errors: Sequence[str],
    question: str = "",
    budget_tokens: int | None = None,
) -> PackedContext:
    """The stage's brief (and the question), errors, earlier stages, files and the repo map."""
    rule = RULES[stage]
    heading = f"## Stage: {stage} ({rule.title})\n{rule.instructions}"
    if question:
        heading += f"\n\n## Question\n{question.strip()}"
    repo_map = await session.repo_map()
    # In the loop, not a thread: reads are bounded by the budget, and a thread hop here waits
    # behind whatever the model client left in the default executor (litellm's logging).
    return pack_context(
        session.ws.root,
        list(files),
        budget_tokens=budget_tokens or session.config.mcp_context_tokens,
        errors=list(errors),
        heading=heading,
        run_context=session.run_context(stage),
        repo_map_text=repo_map,
    )


def messages(packed: PackedContext) -> list[dict[str, str]]:
    return [{"role": "system", "content": ADVISOR}, {"role": "user", "content": packed.text}]


async def ask(config: Config, model: str, label: str, brief: list[dict[str, str]]) -> Answer:
    """One model's text answer; a failed call is an Answer with the error, never an exception."""
    from maestro_tui.llm.client import LLMError
    from maestro_tui.llm.models import make_client

    try:
        c = await make_client(config, model).complete(brief)
    except LLMError as exc:
        return Answer(label, model, error=str(exc))
    return Answer(
        label, model, c.text, c.tokens_in, c.tokens_out, c.cost_usd, c.latency_s, c.simulated
    )


async def ask_all(
    config: Config, models: Sequence[str], brief: list[dict[str, str]]
) -> list[Answer]:
    """Every model at once, independently, in the order given."""
    named = labels(models)
    return list(
        await asyncio.gather(
            *(ask(config, m, n, brief) for m, n in zip(models, named, strict=True))
        )
    )
