"""The tools' handlers: each checks its arguments, does its work through the session, and is
recorded as a ToolCalled event of the current stage (refusals too, with the reason)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from maestro_tui.domain.stages import CONSULT, ENSEMBLE, RULES, Stage, WorkflowRefused
from maestro_tui.mcp_server import advice
from maestro_tui.mcp_server.fleet import Fleet
from maestro_tui.mcp_server.schemas import BY_NAME, BadArguments, check_arguments
from maestro_tui.mcp_server.selecting import select_best
from maestro_tui.mcp_server.session import McpSession, ToolError

# A tool's structured content. The text content is the same, as JSON: clients differ in which
# of the two they hand the model (Claude Code: the structured one), so both say everything.
Result = dict[str, Any]
Handler = Callable[[dict[str, Any]], Awaitable[Result]]


def as_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def _summary(args: Mapping[str, Any]) -> str:
    """A call's arguments, short, for the ToolCalled event (the store keeps the rest)."""
    return " ".join(f"{k}={str(v)[:60]!r}" for k, v in args.items())[:300]


class Tools:
    """The MCP tools over one session and its fleet of runs."""

    def __init__(self, session: McpSession, fleet: Fleet) -> None:
        self.session = session
        self.fleet = fleet
        self._handlers: dict[str, Handler] = {
            "maestro_consult": self.consult,
            "maestro_ensemble_generate": self.ensemble,
            "maestro_select_best": self.select_best,
            "maestro_pack_context": self.pack_context,
            "maestro_run_stage": self.run_stage,
            "maestro_workflow_state": self.workflow_state,
            "maestro_get_metrics": self.get_metrics,
            "maestro_start_run": self.start_run,
            "maestro_run_status": self.run_status,
            "maestro_list_merges": self.list_merges,
            "maestro_decide_merge": self.decide_merge,
            "maestro_resume_run": self.resume_run,
        }
        assert set(self._handlers) == set(BY_NAME), "every tool has a handler"

    async def call(
        self, name: str, arguments: Mapping[str, Any] | None
    ) -> tuple[str, Result, bool]:
        """Run one tool: (text, structured content, is_error). Bad arguments and refusals are
        errors the agent can read and act on; they are recorded like any call."""
        spec = BY_NAME.get(name)
        if spec is None:
            known = ", ".join(BY_NAME)
            return f"error: no tool '{name}'; the tools are {known}", {}, True
        try:
            await self.session.open()
            args = check_arguments(spec, arguments)
        except (BadArguments, ToolError) as exc:
            if self.session.opened:
                self.session.reporter("tool").tool(name, _summary(arguments or {}), False, str(exc))
            return f"error: {exc}", {"error": str(exc)}, True
        report = self.session.reporter("tool")
        try:
            result = await self._handlers[name](args)
        except (ToolError, WorkflowRefused) as exc:
            message = str(exc)
        except Exception as exc:  # a bug or a broken environment: the agent should see it
            message = f"{name} failed: {type(exc).__name__}: {exc}"
        else:
            report.tool(name, _summary(args))
            return as_json(result), result, False
        report.tool(name, _summary(args), False, message)
        report.output(f"{name} refused: {message}", "stderr")
        return f"error: {message}", {"error": message}, True

    # --- advice ---------------------------------------------------------------------------------

    async def consult(self, args: dict[str, Any]) -> Result:
        s = self.session
        s.check_budget()
        model = advice.model_for(s.config, args.get("model"), args.get("provider"))
        return await self._consult(args["question"], model, args)

    async def _consult(self, question: str, model: str, args: dict[str, Any]) -> Result:
        s = self.session
        s.spend(CONSULT)
        stage = s.stage
        packed = await advice.pack(
            s, stage, args.get("files", ()), args.get("errors", ()), question
        )
        report = s.reporter("consult")
        report.output(f"consult {model}: {question.strip()}", "stdout")
        answer = await advice.ask(s.config, model, model, advice.messages(packed))
        if answer.error:
            s.refund(CONSULT)
            raise ToolError(answer.error)
        report.usage(
            answer.model,
            answer.tokens_in,
            answer.tokens_out,
            answer.cost_usd,
            answer.latency_s,
            answer.simulated,
        )
        report.output(answer.text, "llm")
        s.note_spending()
        data = {
            "answer": answer.text,
            "model": answer.model,
            "stage": stage.value,
            "tokens_in": answer.tokens_in,
            "tokens_out": answer.tokens_out,
            "cost_usd": answer.cost_usd,
            "model_latency_s": answer.latency_s,
            "context": _context_info(packed),
            "budget": s.workflow.budget_line(stage),
            **self._money(),
        }
        return data

    async def ensemble(self, args: dict[str, Any]) -> Result:
        s = self.session
        s.check_budget()
        confidence = args.get("confidence")
        if confidence is not None and confidence >= s.config.mcp_confident:
            raise ToolError(
                f"you are confident ({confidence:g} ≥ [mcp] confident {s.config.mcp_confident:g}):"
                " skip the ensemble; ask one model with maestro_consult, or go on yourself"
            )
        models = advice.ensemble_models(
            s.config, args.get("models", ()), args.get("providers", ()), args.get("n")
        )
        return await self._ensemble(args["task"], models, args)

    async def _ensemble(self, task: str, models: list[str], args: dict[str, Any]) -> Result:
        s = self.session
        s.spend(ENSEMBLE)
        stage = s.stage
        packed = await advice.pack(s, stage, args.get("files", ()), args.get("errors", ()), task)
        s.reporter("ensemble").output(f"ensemble of {len(models)}: {task.strip()}", "stdout")
        answers = await advice.ask_all(s.config, models, advice.messages(packed))
        if all(a.error for a in answers):
            s.refund(ENSEMBLE)
            raise ToolError("every candidate failed: " + "; ".join(a.error for a in answers))
        for i, a in enumerate(answers, start=1):
            report = s.reporter("ensemble", candidate=i)
            if a.error:
                report.output(f"candidate {i} ({a.label}) failed: {a.error}", "stderr")
                continue
            report.usage(a.model, a.tokens_in, a.tokens_out, a.cost_usd, a.latency_s, a.simulated)
            report.output(f"candidate {i} ({a.label}):\n{a.text}", "llm")
        s.note_spending()
        data = {
            "candidates": [a.as_dict() for a in answers],
            "stage": stage.value,
            "cost_usd": sum(a.cost_usd or 0.0 for a in answers),
            "context": _context_info(packed),
            "budget": s.workflow.budget_line(stage),
            "next": "pick with maestro_select_best (tests first)",
            **self._money(),
        }
        return data

    async def select_best(self, args: dict[str, Any]) -> Result:
        data = await select_best(
            self.session,
            args["candidates"],
            args.get("mode", "tests_first"),
            args.get("test_results", ()),
            args.get("criteria", ""),
            args.get("task", ""),
        )
        return data

    async def pack_context(self, args: dict[str, Any]) -> Result:
        s = self.session
        stage = Stage(args["stage"]) if "stage" in args else s.stage
        packed = await advice.pack(
            s, stage, args["files"], args.get("errors", ()), budget_tokens=args.get("budget_tokens")
        )
        return {"text": packed.text, "stage": stage.value, **_context_info(packed)}

    # --- the workflow ---------------------------------------------------------------------------

    async def run_stage(self, args: dict[str, Any]) -> Result:
        s = self.session
        stage = Stage(args["stage"])
        moved = s.enter(stage, args.get("summary", ""))
        rule = RULES[stage]
        where = {
            "stage": stage.value,
            "visit": s.workflow.visits[stage],
            "entered": moved,
            "instructions": rule.instructions,
        }
        if not args.get("ask", True):
            return {**where, "workflow": s.workflow.describe()}
        s.check_budget()
        question = f"{rule.instructions}\n\n{args['input']}"
        consults, ensembles = s.workflow.budgets[stage]
        used_c, used_e = s.workflow.used.get(stage, (0, 0))
        confidence = args.get("confidence")
        confident = confidence is not None and confidence >= s.config.mcp_confident
        try:
            if used_e < ensembles and not confident:
                models = advice.ensemble_models(s.config, args.get("models", ()), (), None)
                data = await self._ensemble(question, models, args)
            else:
                data = await self._consult(question, advice.model_for(s.config), args)
        except ToolError as exc:
            entered = f"entered {stage} (visit {where['visit']}), but " if moved else ""
            raise ToolError(entered + str(exc)) from None
        if confident and ensembles:
            data["note"] = "confident: one consult instead of an ensemble"
        return {**where, **data}

    async def workflow_state(self, args: dict[str, Any]) -> Result:
        s = self.session
        data = {"session": s.run_id, **s.workflow.describe(), **self._money()}
        return data

    async def get_metrics(self, args: dict[str, Any]) -> Result:
        from maestro_tui.mcp_server.metrics import session_metrics

        data = await session_metrics(self.session, self.fleet)
        return data

    def _money(self) -> dict[str, Any]:
        s = self.session
        return {
            "spent_usd": round(s.spent_usd(), 6),
            "budget_usd": s.config.mcp_budget_usd,
        }

    # --- run control ----------------------------------------------------------------------------

    async def start_run(self, args: dict[str, Any]) -> Result:
        data = await self.fleet.start(
            args.get("goal"),
            args.get("plan"),
            args.get("agents"),
            args.get("budget_usd"),
            args.get("merge"),
            args.get("model"),
        )
        return data

    async def run_status(self, args: dict[str, Any]) -> Result:
        data = await self.fleet.status(args["run_id"], args.get("wait_s", 0.0))
        return data

    async def list_merges(self, args: dict[str, Any]) -> Result:
        data = await self.fleet.merges(args["run_id"], args.get("all", False))
        return data

    async def decide_merge(self, args: dict[str, Any]) -> Result:
        data = await self.fleet.decide(
            args["run_id"], args["task"], args["decision"], args.get("take"), args.get("reason", "")
        )
        return data

    async def resume_run(self, args: dict[str, Any]) -> Result:
        data = await self.fleet.resume(args["run_id"], args.get("budget_usd"), args.get("agents"))
        return data


def _context_info(packed: Any) -> dict[str, Any]:
    return {
        "tokens": packed.tokens,
        "budget_tokens": packed.budget_tokens,
        "files": list(packed.files),
        "clipped": list(packed.clipped),
        "left_out": list(packed.left_out),
    }
