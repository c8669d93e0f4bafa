"""The LLM worker: a tool-calling loop through litellm, confined to the task's worktree."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter, WorkerError, WorkerJob, WorkerResult
from maestro_tui.llm.client import Completion, LLMClient, LLMError
from maestro_tui.llm.roles import ROLE_PROMPTS
from maestro_tui.llm.tools import TOOL_SCHEMAS, ToolBox, ToolRefused, resolve_inside

MAX_FILE_CHARS = 20_000  # per file of the task, in the first message
MAX_FILES_CHARS = 60_000  # all of the task's files together
HUMAN_MESSAGE = "A message from the person supervising this run, while you work:\n\n"
NUDGE = "Use the tools to do the task, and call finish with a summary when you are done."


class LineBuffer:
    """Joins streamed fragments into whole lines for the agent's log."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._partial = ""

    def feed(self, fragment: str) -> None:
        *lines, self._partial = (self._partial + fragment).split("\n")
        for line in lines:
            self._sink(line)

    def flush(self) -> None:
        if self._partial:
            self._sink(self._partial)
            self._partial = ""


def task_files_block(worktree: Path, files: Iterable[str]) -> str:
    """The current content of the task's own files, each bounded, for the first message."""
    parts: list[str] = []
    budget = MAX_FILES_CHARS
    for name in files:
        try:
            path = resolve_inside(worktree, name)
        except ToolRefused as exc:
            parts.append(f"--- {name}: not readable ({exc})")
            continue
        if not path.is_file():
            parts.append(f"--- {name}: does not exist yet")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        limit = min(MAX_FILE_CHARS, budget)
        if len(text) > limit:
            text = text[:limit] + f"\n… [truncated: {len(text)} characters; read_file for more]"
        budget -= min(len(text), limit)
        parts.append(f"--- {name}\n{text}")
        if budget <= 0:
            parts.append("… [further files left out; read_file them]")
            break
    return "\n".join(parts)


def build_messages(job: WorkerJob, role_prompt: str, tool_rules: str) -> list[dict[str, Any]]:
    """The conversation's start: role and tool rules, then only what this task needs."""
    task = job.task
    sections = [
        f"Task id: {task.id}",
        *([f"Candidate: {job.candidate} of {task.candidates}"] if job.candidate else []),
        f"Title: {task.title}",
        "",
        task.prompt.strip(),
    ]
    if task.files:
        sections += [
            "",
            "Your files (their current content):",
            task_files_block(job.worktree, task.files),
        ]
    if job.context.strip():
        sections += ["", "Context from the run:", job.context.strip()]
    if job.feedback.strip():
        sections += ["", "Your previous attempt failed. Feedback:", job.feedback.strip()]
    return [
        {"role": "system", "content": f"{role_prompt.strip()}\n\n{tool_rules}"},
        {"role": "user", "content": "\n".join(sections)},
    ]


class LLMWorker:
    """A Worker that drives a chat model through the tools until it calls `finish`.

    Usage is reported through the Reporter (one LLMUsage per call, with the task); give it
    clients without `on_usage`, or each call is counted twice.
    """

    name = "llm"
    steering = "at its next turn"  # a message from the human joins the next model call

    def __init__(
        self,
        client: LLMClient | None = None,
        client_factory: Callable[[], LLMClient] | None = None,
        role_prompts: Mapping[str, str] | None = None,
        max_turns: int = 30,
        allowed_commands: Iterable[str] = ("python", "pytest"),
        command_timeout_s: float | None = 300,
    ) -> None:
        if (client is None) == (client_factory is None):
            raise ValueError("give LLMWorker a client or a client_factory, not both or neither")
        self._client = client
        self._factory = client_factory
        self.role_prompts = dict(role_prompts or ROLE_PROMPTS)
        self.max_turns = max_turns
        self.allowed_commands = tuple(allowed_commands)
        self.command_timeout_s = command_timeout_s

    async def run(self, job: WorkerJob, report: Reporter) -> WorkerResult:
        """Run the tool loop for one attempt; WorkerError if it fails or never finishes."""
        client = self._client or self._factory()  # type: ignore[misc]
        role_prompt = self.role_prompts.get(job.task.role) or self.role_prompts.get("coder", "")
        timeout = self.command_timeout_s
        if job.timeout_s is not None:
            timeout = min(timeout or job.timeout_s, job.timeout_s)
        tools = ToolBox(
            job.worktree,
            self.allowed_commands,
            timeout,
            report,
            env=job.env or None,
            sandbox=job.sandbox,
        )
        messages = build_messages(job, role_prompt, tools.rules())
        log = LineBuffer(lambda line: report.output(line, "llm"))

        def retried(attempt: int, delay_s: float, problem: str) -> None:
            log.flush()
            report.output(
                f"model call failed, retry {attempt} in {delay_s:.1f}s: {problem}", "stderr"
            )

        for _turn in range(self.max_turns):
            for text in job.mailbox.take() if job.mailbox is not None else ():
                messages.append({"role": "user", "content": HUMAN_MESSAGE + text})
            try:
                completion = await client.complete(
                    messages, tools=TOOL_SCHEMAS, on_text=log.feed, on_retry=retried
                )
            except LLMError as exc:
                log.flush()
                raise WorkerError(str(exc)) from None
            log.flush()
            _report_usage(report, completion)
            messages.append(_assistant_message(completion))
            if not completion.tool_calls:
                messages.append({"role": "user", "content": NUDGE})
                continue
            finished: str | None = None
            for call in completion.tool_calls:
                result = await tools.execute(call.name, call.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
                if (
                    call.name == "finish"
                    and isinstance(call.arguments, dict)
                    and not result.startswith("error:")
                ):
                    finished = str(call.arguments.get("summary", "")).strip()
            if finished is not None:
                return WorkerResult(
                    summary=finished or job.task.title, agent=self.name, model=client.model
                )
        raise WorkerError(f"no finish after {self.max_turns} turns (max_turns)")


def _report_usage(report: Reporter, completion: Completion) -> None:
    report.usage(
        completion.model,
        completion.tokens_in,
        completion.tokens_out,
        completion.cost_usd,
        latency_s=completion.latency_s,
        simulated=completion.simulated,
    )


def _assistant_message(completion: Completion) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": completion.text or None}
    if completion.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {
                    "name": call.name,
                    # A malformed call is sent back as the model wrote it, parse error aside.
                    "arguments": json.dumps(call.arguments)
                    if isinstance(call.arguments, dict)
                    else "{}",
                },
            }
            for call in completion.tool_calls
        ]
    return message
