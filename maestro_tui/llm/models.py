"""From maestro.toml and flags to model clients, LLM workers and the planner."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from maestro_tui.agents.base import Worker
from maestro_tui.config import Config, WorkerSpec
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.planning import PlanningProgress
from maestro_tui.llm.client import Completion, LLMClient
from maestro_tui.llm.critic import LLMCritic, LLMJudge
from maestro_tui.llm.planner import plan_goal
from maestro_tui.llm.roles import load_roles
from maestro_tui.llm.worker import LLMWorker

DEMO_ALIASES = {"planner": "demo/planner", "coder": "demo/coder"}

# Variables litellm reads keys from; their values are redacted from everything we record.
PROVIDER_KEY_VARS = (
    "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY",
    "AZURE_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY", "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY", "TOGETHERAI_API_KEY", "COHERE_API_KEY", "XAI_API_KEY",
)  # fmt: skip


def resolve_model(name: str, use: str) -> str:
    """ "demo" means the built-in offline model for that use ("planner" or "coder")."""
    return DEMO_ALIASES[use] if name == "demo" else name


def api_key(config: Config) -> str | None:
    return os.environ.get(config.api_key_env) if config.api_key_env else None


# Which passed-through variables hold secrets: a worker also passes base URLs, model names
# and opt-outs, which the log must show as they are.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH|HEADERS", re.IGNORECASE)


def secrets_in_environment(config: Config) -> list[str]:
    """Every secret value this run could see, so the bus can redact it from events."""
    passed = (n for s in config.workers.values() for n in s.pass_env if _SECRET_NAME.search(n))
    names = {*PROVIDER_KEY_VARS, *passed}
    if config.api_key_env:
        names.add(config.api_key_env)
    return [v for n in sorted(names) if len(v := os.environ.get(n, "")) >= 8]


def make_client(
    config: Config, model: str, on_usage: Callable[[Completion], None] | None = None
) -> LLMClient:
    return LLMClient(
        model,
        api_base=config.api_base,
        api_key=api_key(config),
        prices=config.prices,
        on_usage=on_usage,
    )


def llm_worker(spec: WorkerSpec, config: Config) -> Worker:
    """The tool-using LLM worker on the spec's model, or the configured one."""
    model = resolve_model(spec.model or config.model, "coder")
    worker = LLMWorker(
        client_factory=lambda: make_client(config, model),
        role_prompts=load_roles(),
        max_turns=config.max_turns,
        allowed_commands=config.allowed_commands,
        command_timeout_s=spec.timeout_s or config.test_timeout_s,
    )
    worker.name = f"llm:{model}"
    return worker


def demo_worker(spec: WorkerSpec, config: Config) -> Worker:
    """The LLM worker on the built-in offline demo model."""
    return llm_worker(WorkerSpec(name=spec.name, kind="llm", model="demo"), config)


async def plan_with_model(
    config: Config,
    goal: str,
    root: Path,
    on_usage: Callable[[Completion], None] | None = None,
    progress: PlanningProgress | None = None,
) -> Plan:
    """Ask the planner model for a plan of the goal over this repository: it reads the code
    (never the files of [run] exclude) before it plans; what it says, reads and spends is
    reported to `progress` as it goes."""
    model = resolve_model(config.effective_planner_model, "planner")
    client = make_client(config, model, on_usage=on_usage)
    return await plan_goal(
        client, goal, root, load_roles(), progress=progress, exclude=config.exclude
    )


def make_critic(config: Config) -> LLMCritic | None:
    """The reviewer model when [critic] rounds > 0, else None."""
    if config.critic_rounds == 0:
        return None
    return LLMCritic(
        make_client(config, resolve_model(config.critic_model or config.model, "coder"))
    )


def make_judge(config: Config, plan: Plan) -> LLMJudge | None:
    """A judge model for ensembles (ties, and select = "llm_judge"), when the plan has any."""
    if all(t.candidates == 1 for t in plan.tasks):
        return None
    model = resolve_model(config.critic_model or config.model, "coder")
    return LLMJudge(make_client(config, model))
