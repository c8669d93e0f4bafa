"""The five-stage workflow an agent follows through maestro's MCP tools, as a state machine.

analyze → hypothesize → implement → debug → improve. Each stage has a coordination budget:
how many single-model consults and how many ensembles the agent may ask for while in it. The
numbers follow the measured results the workflow is built on (Kim et al., "Towards a Science
of Scaling Agent Systems", 2025): more agents help where answers can be compared (competing
hypotheses, improvements) and hurt in tool-heavy, sequential work (implementing, debugging),
where the orchestrating agent works alone and asks for advice at most once.

Pure: the MCP server keeps a `Workflow` and replaces it with what `enter` and `spend` return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType


class Stage(StrEnum):
    ANALYZE = "analyze"
    HYPOTHESIZE = "hypothesize"
    IMPLEMENT = "implement"
    DEBUG = "debug"
    IMPROVE = "improve"


STAGES: tuple[Stage, ...] = tuple(Stage)
CONSULT = "consult"
ENSEMBLE = "ensemble"
# At or above this confidence an ensemble adds little (capability saturation): ask one model.
CONFIDENT = 0.45


@dataclass(frozen=True)
class StageRule:
    """What a stage is for, its default budget, and where the workflow may go from it."""

    stage: Stage
    title: str
    role: str  # a plan role, for the session's task of this stage
    consults: int
    ensembles: int
    goes_to: tuple[Stage, ...]
    instructions: str


RULES: Mapping[Stage, StageRule] = MappingProxyType(
    {
        Stage.ANALYZE: StageRule(
            Stage.ANALYZE,
            "Analyze: freeze the facts",
            "reviewer",
            2,
            0,
            (Stage.HYPOTHESIZE,),
            "List what is observed, how to reproduce it, the files involved and what must not "
            "break. No guessing yet.",
        ),
        Stage.HYPOTHESIZE: StageRule(
            Stage.HYPOTHESIZE,
            "Hypothesize: competing explanations",
            "reviewer",
            2,
            1,
            (Stage.IMPLEMENT, Stage.ANALYZE),
            "Give two to four competing explanations, each with a test that would confirm or "
            "refute it, most likely first.",
        ),
        Stage.IMPLEMENT: StageRule(
            Stage.IMPLEMENT,
            "Implement: the smallest change",
            "coder",
            1,
            0,
            (Stage.DEBUG, Stage.IMPROVE),
            "Propose the smallest change that tests the chosen hypothesis, as a unified diff, "
            "and the command that verifies it.",
        ),
        Stage.DEBUG: StageRule(
            Stage.DEBUG,
            "Debug: one step at a time",
            "coder",
            1,
            0,
            (Stage.IMPLEMENT, Stage.HYPOTHESIZE, Stage.IMPROVE),
            "Read the new error against the last one, say what changed, and propose one next "
            "action: the smallest edit or test. Suggest another hypothesis if stuck.",
        ),
        Stage.IMPROVE: StageRule(
            Stage.IMPROVE,
            "Improve: refactor and stabilise",
            "refactorer",
            2,
            1,
            (Stage.DEBUG,),
            "With the tests green: readability, edge cases, a regression test, docs. Low risk "
            "only; do not over-engineer.",
        ),
    }
)


class WorkflowRefused(Exception):
    """A move or a call the workflow does not allow; the message shows the rule and budget."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Workflow:
    """Where the workflow stands: the current stage, visits, and the budget used per stage."""

    budgets: Mapping[Stage, tuple[int, int]] = field(
        default_factory=lambda: {s: (r.consults, r.ensembles) for s, r in RULES.items()}
    )
    current: Stage | None = None
    visits: Mapping[Stage, int] = field(default_factory=dict)
    used: Mapping[Stage, tuple[int, int]] = field(default_factory=dict)  # (consults, ensembles)

    def allowed_moves(self) -> tuple[Stage, ...]:
        """Where `enter` may go from here (staying in the current stage is always allowed)."""
        if self.current is None:
            return (Stage.ANALYZE,)
        return (self.current, *RULES[self.current].goes_to)

    def enter(self, stage: Stage) -> Workflow:
        """Go to `stage` (a new visit unless it is the current one), or WorkflowRefused."""
        if stage == self.current:
            return self
        if stage not in self.allowed_moves():
            order = " → ".join(STAGES)
            where = f"from {self.current}" if self.current else "at the start"
            options = ", ".join(self.allowed_moves())
            raise WorkflowRefused(
                f"cannot go to {stage} {where}: the next stage may be {options} "
                f"(the workflow: {order}; implement ⇄ debug and debug → hypothesize loop back)"
            )
        visits = {**self.visits, stage: self.visits.get(stage, 0) + 1}
        return replace(self, current=stage, visits=visits)

    def budget_line(self, stage: Stage) -> str:
        """ "analyze: 1 of 2 consults, 0 of 0 ensembles" """
        consults, ensembles = self.budgets[stage]
        used_c, used_e = self.used.get(stage, (0, 0))
        return (
            f"{stage}: {used_c} of {_plural(consults, 'consult')}, "
            f"{used_e} of {_plural(ensembles, 'ensemble')}"
        )

    def spend(self, kind: str) -> Workflow:
        """Count one consult or ensemble against the current stage, or WorkflowRefused."""
        stage = self.current
        if stage is None:
            raise WorkflowRefused("no stage yet: start with maestro_run_stage('analyze')")
        consults, ensembles = self.budgets[stage]
        used_c, used_e = self.used.get(stage, (0, 0))
        if kind == ENSEMBLE and ensembles == 0:
            raise WorkflowRefused(
                f"stage {stage} allows no ensembles (tool-heavy, sequential work gets worse "
                f"with more agents): ask one model with maestro_consult, or decide yourself. "
                f"Budget: {self.budget_line(stage)}"
            )
        spent = used_c >= consults if kind == CONSULT else used_e >= ensembles
        if spent:
            moves = ", ".join(s for s in self.allowed_moves() if s != stage) or "none"
            raise WorkflowRefused(
                f"stage {stage}'s {kind} budget is spent: {self.budget_line(stage)}. Decide "
                f"yourself, or move on with maestro_run_stage (next: {moves})"
            )
        now = (used_c + 1, used_e) if kind == CONSULT else (used_c, used_e + 1)
        return replace(self, used={**self.used, stage: now})

    def refund(self, kind: str) -> Workflow:
        """Give back a consult or ensemble of the current stage whose model call failed."""
        stage = self.current
        if stage is None:
            return self
        used_c, used_e = self.used.get(stage, (0, 0))
        now = (max(0, used_c - 1), used_e) if kind == CONSULT else (used_c, max(0, used_e - 1))
        return replace(self, used={**self.used, stage: now})

    def describe(self) -> dict[str, object]:
        """The workflow as plain data, for `maestro_workflow_state`."""
        stages = []
        for stage in STAGES:
            consults, ensembles = self.budgets[stage]
            used_c, used_e = self.used.get(stage, (0, 0))
            stages.append(
                {
                    "stage": stage.value,
                    "title": RULES[stage].title,
                    "visits": self.visits.get(stage, 0),
                    "consults": {"used": used_c, "allowed": consults},
                    "ensembles": {"used": used_e, "allowed": ensembles},
                    "current": stage == self.current,
                }
            )
        return {
            "current": self.current.value if self.current else None,
            "next": [s.value for s in self.allowed_moves() if s != self.current],
            "stages": stages,
        }
