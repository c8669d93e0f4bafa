"""How much a planner model may read before it must plan, scaled to its context window."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TURNS = 12
ASSUMED_CONTEXT = 32_000  # tokens, for a model litellm has no figures for
MAX_TOKENS = 400_000  # however large the window: reading is paid for on every later turn
FULL_SHARE = 0.6  # of the window: a conversation this long must end in the plan


@dataclass(frozen=True)
class ReadingBudget:
    """The planner's reading allowance: model calls, tokens (in + out, summed over its calls),
    the size of its first map and of each tool result."""

    turns: int
    tokens: int
    context: int  # the model's input window in tokens, as litellm knows it or assumed
    map_tokens: int
    result_chars: int

    @classmethod
    def for_window(
        cls,
        context: int | None,
        turns: int = DEFAULT_TURNS,
        tokens: int | None = None,
        map_tokens: int | None = None,
    ) -> ReadingBudget:
        """Defaults from the window: twice it in tokens (at most MAX_TOKENS), a map of a
        25th of it (1,000-6,000 tokens), results of up to 40% of it in characters."""
        window = context or ASSUMED_CONTEXT
        return cls(
            turns=max(1, turns),
            tokens=tokens if tokens is not None else min(2 * window, MAX_TOKENS),
            context=window,
            map_tokens=map_tokens or max(1_000, min(window // 25, 6_000)),
            result_chars=max(4_000, min(window * 4 // 10, 20_000)),
        )

    def spent(self, turns: int, tokens: int, last_prompt: int) -> str:
        """Why the reading must stop now ('' while it may go on)."""
        if turns >= self.turns:
            return f"{turns} turns of {self.turns}"
        if tokens >= self.tokens:
            return f"{tokens:,} tokens of {self.tokens:,}"
        if last_prompt >= self.context * FULL_SHARE:
            return f"the conversation fills {last_prompt:,} of the model's {self.context:,} tokens"
        return ""


def context_window(model: str) -> int | None:
    """The model's input window in tokens, from litellm's model map; None when unknown.
    Call with litellm imported (import_litellm_off_loop): this imports it otherwise."""
    from maestro_tui.llm.client import import_litellm
    from maestro_tui.llm.demo.model import is_demo_model

    if is_demo_model(model):
        return None
    try:
        info = import_litellm().get_model_info(model)
    except Exception:  # litellm raises for a model it has no figures for
        return None
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return int(value) if value else None
