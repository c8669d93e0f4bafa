"""Each CLI's parser over what the real CLI printed (tests/agents/transcripts/): messages, tool
calls, edits, usage and cost, the session, and success read from the output, never the exit
code. A line a parser does not know is shown as it is; one that breaks it never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro_tui.agents.coding_cli import DIALECTS
from maestro_tui.agents.readiness import Endpoint
from maestro_tui.agents.stream import CliStream, RunOutcome
from tests.support.recording import RecordingReporter

TRANSCRIPTS = Path(__file__).parent / "transcripts"
WORKTREE = "/srv/task-worktree"
PRICES = {  # USD per million tokens in, out: what our price table would say
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-opus-5-5": (4.0, 20.0),
    "gemini-2.5-flash": (0.3, 2.5),
    "openai/gpt-4o": (2.5, 10.0),
}


def price(model: str, tokens_in: int, tokens_out: int) -> float | None:
    if model not in PRICES:
        return None
    p_in, p_out = PRICES[model]
    return (tokens_in * p_in + tokens_out * p_out) / 1e6


def parse(name: str, exit_code: int | None = 0) -> tuple[RunOutcome, RecordingReporter]:
    cli = name.split("-")[0]
    reporter = RecordingReporter()
    stream = DIALECTS[cli].stream(reporter, price, "", False, Path("/nowhere"))
    stream.worktree = Path(WORKTREE)
    for line in (TRANSCRIPTS / name).read_text().replace("$WORKTREE", WORKTREE).splitlines():
        stream.feed(line, "stdout")
    return stream.finish(exit_code), reporter


# --- Claude Code ---------------------------------------------------------------------------


def test_claude_an_edit_run_in_full() -> None:
    outcome, r = parse("claude-edit.jsonl")
    assert (outcome.error, outcome.limit, outcome.model) == ("", "", "claude-sonnet-4-5")
    assert outcome.final == "Added hello.py and changed the greeting."
    assert r.sessions == [("b876ef54-3597-4d03-b7f1-b38496d5da26", False)]
    assert [(t["tool"], t["ok"]) for t in r.tools] == [
        ("Write", True),
        ("Read", True),
        ("Edit", True),
    ]
    assert r.tools[0]["args"] == "file_path=hello.py, content=<15 chars>"  # no file contents
    assert r.files == [("hello.py", "added"), ("greet.py", "modified")]
    # No stream events in this transcript: one call per model, with Claude Code's own cost.
    assert r.usages == [
        {"model": "claude-sonnet-4-5", "tokens_in": 89227, "tokens_out": 89,
         "cost_usd": pytest.approx(0.269016), "latency_s": 0.0, "simulated": False}
    ]  # fmt: skip
    assert ("Added hello.py and changed the greeting.", "llm") in r.outputs


def test_claude_refusals_fail_the_run_though_it_exits_0() -> None:
    outcome, r = parse("claude-refused.jsonl")
    assert outcome.error.startswith("Claude Code refused 2 action(s): Write: Claude requested")
    assert "sensitive file" in outcome.error and len(outcome.refusals) == 2
    assert [(t["args"].split(",")[0], t["ok"]) for t in r.tools] == [
        ("file_path=vendor/.git/config", False),
        ("file_path=../outside.txt", False),
    ]


@pytest.mark.parametrize(
    ("name", "error", "limit"),
    [
        ("claude-bad-key.jsonl", "Claude Code failed: Invalid API key", ""),
        ("claude-usage-limit.jsonl", "", "Claude Code: API Error: Request rejected (429)"),
        ("claude-stall-killed.jsonl", "Claude Code ended without a result", ""),
    ],
)
def test_claude_errors_and_limits(name: str, error: str, limit: str) -> None:
    outcome, r = parse(name, exit_code=1 if "stall" not in name else 0)
    assert outcome.error.startswith(error) if error else outcome.error == ""
    assert outcome.limit.startswith(limit) if limit else outcome.limit == ""


def test_claude_its_own_retries_of_a_429_show_why_it_waits() -> None:
    outcome, r = parse("claude-rate-limit-retried.jsonl")
    assert outcome.error == "" and outcome.final == "Answered after the retry."
    assert r.waits == [("API rate_limit (HTTP 429): Claude Code retries (1/2)", 1.175)]


def test_claude_after_a_resume_meters_only_this_run() -> None:
    outcome, r = parse("claude-resume-2.jsonl")
    assert [(u["tokens_in"], u["cost_usd"]) for u in r.usages] == [(12619, 0.050536)]


def test_claude_per_turn_usage_from_stream_events_adds_up_to_its_own_cost() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["claude"].stream(reporter, price, "", False, Path("/nowhere"))
    turns = [(1000, 50), (1100, 7), (1300, 20)]
    for n, (tokens_in, tokens_out) in enumerate(turns):
        message = {"id": f"m{n}", "model": "claude-sonnet-4-5"}
        start = {
            "type": "message_start",
            "message": {**message, "usage": {"input_tokens": tokens_in}},
        }
        delta = {"type": "message_delta", "usage": {"output_tokens": tokens_out}}
        for event in (start, delta, {"type": "message_stop"}):
            stream.feed(_json({"type": "stream_event", "event": event}), "stdout")
    # Two turns are metered as they end (priced by us); the last waits for the result.
    assert [(u["tokens_in"], u["tokens_out"]) for u in reporter.usages] == turns[:2]
    own = 0.05
    stream.feed(_json({"type": "result", "is_error": False, "result": "done", "num_turns": 3,
                       "model_usage_since_last_result": {"claude-sonnet-4-5": {"costUSD": own}}}),
                "stdout")  # fmt: skip
    outcome = stream.finish(0)
    assert outcome.final == "done" and outcome.turns == 3
    assert [(u["tokens_in"], u["tokens_out"]) for u in reporter.usages] == turns
    assert sum(u["cost_usd"] for u in reporter.usages) == pytest.approx(own)


# --- Codex ---------------------------------------------------------------------------------


def test_codex_an_edit_run_in_full() -> None:
    outcome, r = parse("codex-edit.jsonl")
    assert outcome.error == "" and outcome.final == "Added hello.py and changed the greeting."
    assert r.sessions == [("01a22c6f-ad81-7880-b709-94a7e07b59b5", False)]
    assert r.files == [("hello.py", "added"), ("greet.py", "modified")]
    assert [t["tool"] for t in r.tools] == ["apply_patch", "apply_patch", "shell"]
    # No model in the stream and none asked for: its default, with no known price.
    assert [(u["model"], u["tokens_in"], u["cost_usd"]) for u in r.usages] == [
        ("codex:default", 39618, None)
    ]


def test_codex_refusals_show_only_on_stderr_and_in_failed_commands() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["codex"].stream(reporter, price, "gpt-5.5", False, Path("/nowhere"))
    stream.feed(
        "2026-11-30T12:30:26Z ERROR codex_core::tools::router: error=patch rejected: writing"
        " outside of the project; rejected by user approval settings",
        "stderr",
    )
    for line in (TRANSCRIPTS / "codex-refused.jsonl").read_text().splitlines():
        stream.feed(line, "stdout")
    outcome = stream.finish(0)
    assert outcome.error.startswith("Codex refused 2 action(s): patch rejected: writing outside")
    assert "Read-only file system" in outcome.error


def test_codex_after_a_resume_meters_only_this_run(tmp_path: Path) -> None:
    """`exec … resume` reports the thread's total: what its rollout had before this run
    (the last token count before the run's task_started) is taken off."""
    thread = "01a22c70-07c9-7dc0-a05c-1720574b236d"  # codex-resume-2.jsonl's
    day = tmp_path / "codex" / "sessions" / "2026" / "12" / "07"
    day.mkdir(parents=True)

    def event(payload: dict[str, object]) -> str:
        return _json({"type": "event_msg", "payload": payload})

    def total(tokens_in: int, tokens_out: int) -> str:
        usage = {"input_tokens": tokens_in, "output_tokens": tokens_out}
        return event({"type": "token_count", "info": {"total_token_usage": usage}})

    run = [event({"type": "task_started"}), total(9_000, 3), total(19_500, 5)]
    resumed = [event({"type": "task_started"}), total(19_562, 7)]
    (day / f"rollout-2026-12-07T10-00-00-{thread}.jsonl").write_text(
        "\n".join([*run, *resumed]) + "\n"
    )
    reporter = RecordingReporter()
    stream = DIALECTS["codex"].stream(reporter, price, "gpt-5.5", True, Path("/nowhere"))
    stream.env = {"CODEX_HOME": str(tmp_path / "codex")}
    for line in (TRANSCRIPTS / "codex-resume-2.jsonl").read_text().splitlines():
        stream.feed(line, "stdout")  # its turn.completed: 19,562 in, 7 out

    assert stream.finish(0).error == ""
    assert [(u["tokens_in"], u["tokens_out"]) for u in reporter.usages] == [(62, 2)]
    # No rollout to read (another CODEX_HOME): the whole total, as the stream says.
    reporter = RecordingReporter()
    stream = DIALECTS["codex"].stream(reporter, price, "gpt-5.5", True, Path("/nowhere"))
    stream.env = {"CODEX_HOME": str(tmp_path / "elsewhere")}
    for line in (TRANSCRIPTS / "codex-resume-2.jsonl").read_text().splitlines():
        stream.feed(line, "stdout")
    assert [(u["tokens_in"], u["tokens_out"]) for u in reporter.usages] == [(19_562, 7)]


@pytest.mark.parametrize(
    ("name", "error", "limit"),
    [
        ("codex-bad-key.jsonl", "Codex failed: unexpected status 401 Unauthorized", ""),
        ("codex-usage-limit.jsonl", "", "Codex: You’ve hit your usage limit."),
        ("codex-stall-killed.jsonl", "Codex ended without finishing its turn", ""),
    ],
)
def test_codex_errors_and_limits(name: str, error: str, limit: str) -> None:
    outcome, _ = parse(name, exit_code=0 if "stall" in name else 1)
    assert outcome.error.startswith(error) if error else outcome.error == ""
    assert outcome.limit.startswith(limit) if limit else outcome.limit == ""


# --- Gemini CLI ----------------------------------------------------------------------------


def test_gemini_an_edit_run_in_full() -> None:
    outcome, r = parse("gemini-edit.jsonl")
    assert outcome.error == "" and outcome.final == "Added hello.py and changed the greeting."
    assert outcome.model == "gemini-2.5-flash"
    assert r.files == [("hello.py", "added"), ("greet.py", "modified")]
    assert [(t["tool"], t["ok"]) for t in r.tools] == [
        ("write_file", True), ("replace", True), ("run_shell_command", True)
    ]  # fmt: skip
    assert [(u["tokens_in"], u["tokens_out"]) for u in r.usages] == [(49531, 100)]
    assert r.usages[0]["cost_usd"] == pytest.approx(price("gemini-2.5-flash", 49531, 100))


@pytest.mark.parametrize(
    ("name", "exit_code", "error", "limit"),
    [
        ("gemini-refused.jsonl", 0, "Gemini CLI refused 2 action(s): write_file ../outside", ""),
        ("gemini-bad-key.jsonl", 145, "Gemini CLI failed: [API Error:", ""),
        ("gemini-usage-limit.jsonl", 173, "", "Gemini CLI: [API Error: You have exhausted"),
        ("gemini-stall-killed.jsonl", 0, "Gemini CLI ended without a result", ""),
    ],
)
def test_gemini_errors_refusals_and_limits(
    name: str, exit_code: int, error: str, limit: str
) -> None:
    outcome, _ = parse(name, exit_code)
    assert outcome.error.startswith(error) if error else outcome.error == ""
    assert outcome.limit.startswith(limit) if limit else outcome.limit == ""


def test_gemini_its_own_429_retries_show_why_it_waits() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["gemini"].stream(reporter, price, "", False, Path("/nowhere"))
    stream.feed("Attempt 1 failed with status 429. Retrying with backoff... Error: …", "stderr")
    stream.feed("YOLO mode is enabled. All tool calls will be automatically approved.", "stderr")
    assert [w[0] for w in reporter.waits] == [
        "Gemini API answered HTTP 429: Gemini CLI retries (attempt 1)"
    ]
    assert reporter.outputs == []  # its everyday noise is not shown


FRAME = "    at async retryWithBackoff (file:///…/bundle/chunk-JDPZ4CE3.js:308039:23)"
FETCH_FAILED = (
    "failed. Retrying with backoff... Error: exception TypeError: fetch failed sending request"
)
# Its stderr (Gemini CLI 0.61.0) with GOOGLE_GEMINI_BASE_URL at a closed port: ten such tries
# over ~230 s, each with 10 stack lines.
UNREACHABLE = [
    "YOLO mode is enabled. All tool calls will be automatically approved.",
    "[STARTUP] Phase 'cleanup_ops' was started but never ended. Skipping metrics.",
    f"Attempt 1 {FETCH_FAILED}",
    "    at file:///…/bundle/chunk-JDPZ4CE3.js:267671:13",
    FRAME,
    "[STARTUP] Cannot measure phase 'cleanup_ops': start mark not found.",
    f"Attempt 2 {FETCH_FAILED}",
    FRAME,
]


def test_gemini_an_endpoint_it_cannot_connect_to_is_given_up_at_the_second_try() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["gemini"].stream(reporter, price, "", False, Path("/nowhere"))
    stream.endpoint = Endpoint("http://127.0.0.1:9", "GOOGLE_GEMINI_BASE_URL", named=True)
    for line in UNREACHABLE[:6]:
        stream.feed(line, "stderr")
    assert not stream.hopeless  # a server restarting gets its second chance
    for line in UNREACHABLE[6:]:
        stream.feed(line, "stderr")
    assert stream.hopeless and reporter.outputs == []  # said once, when stopped
    stream.say_unreachable("connection refused")
    said = (
        "Gemini CLI cannot reach its model endpoint http://127.0.0.1:9: connection refused;"
        " stopped after 2 tries rather than retry for minutes. Check GOOGLE_GEMINI_BASE_URL,"
        " and that the model server there is running."
    )
    assert reporter.outputs == [(said, "stderr")]
    assert stream.finish(None).error == said


def test_gemini_its_default_endpoint_unreachable_says_to_check_the_network() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["gemini"].stream(reporter, price, "", False, Path("/nowhere"))
    google = "https://generativelanguage.googleapis.com"
    stream.endpoint = Endpoint(google, "GOOGLE_GEMINI_BASE_URL", named=False)
    stream.say_unreachable("host 'generativelanguage.googleapis.com' not found")
    assert reporter.outputs[0][0] == (
        f"Gemini CLI cannot reach its model endpoint {google} (its default:"
        " GOOGLE_GEMINI_BASE_URL is not set): host 'generativelanguage.googleapis.com' not"
        " found; stopped after 2 tries rather than retry for minutes. Check this machine's"
        " network, and its proxy (HTTPS_PROXY) if it needs one."
    )


def test_gemini_other_retries_are_one_line_each_without_their_stack() -> None:
    reporter = RecordingReporter()
    stream = DIALECTS["gemini"].stream(reporter, price, "", False, Path("/nowhere"))
    for line in [
        "Attempt 1 failed with status 503. Retrying with backoff... ApiError: unavailable",
        FRAME,
        "Attempt 2 failed. Retrying with backoff... Error: incomplete json segment",
        FRAME,
        "Something else it says",
        "    at where something else was said",
    ]:
        stream.feed(line, "stderr")
    assert [text for text, _ in reporter.outputs] == [
        "Gemini API answered HTTP 503: Gemini CLI retries (attempt 1)",
        "Gemini CLI retries (attempt 2): incomplete json segment",
        "Something else it says",
        "    at where something else was said",  # not after a retry: not ours to hide
    ]
    assert not stream.hopeless


# --- Aider ---------------------------------------------------------------------------------


def test_aider_an_edit_run_in_full() -> None:
    outcome, r = parse("aider-edit.txt")
    assert outcome.error == "" and outcome.model == "openai/gpt-4o"
    assert outcome.final == "Changing the greeting."  # its prose, without the file blocks
    assert r.files == [("greet.py", "modified"), ("hello.py", "modified")]
    # No usage log here: the printed, rounded counts, with its own printed cost.
    assert [(u["tokens_in"], u["tokens_out"]) for u in r.usages] == [(1200, 56)]


def test_aider_usage_comes_exact_from_its_log(tmp_path: Path) -> None:
    log = tmp_path / "aider.usage.jsonl"
    reporter = RecordingReporter()
    stream = DIALECTS["aider"].stream(reporter, price, "", False, tmp_path)
    for line in (TRANSCRIPTS / "aider-edit.txt").read_text().splitlines():
        stream.feed(line, "stdout")
        if line.startswith("Tokens:"):
            log.write_text(
                '{"event": "message_send", "properties": {"prompt_tokens": 1234,'
                ' "completion_tokens": 56, "cost": 0.0036}}\n'
            )
    stream.finish(0)
    assert [(u["tokens_in"], u["tokens_out"], u["cost_usd"]) for u in reporter.usages] == [
        (1234, 56, 0.0036)
    ]


@pytest.mark.parametrize(
    ("name", "error", "limit"),
    [
        ("aider-bad-key.txt", "Aider failed: litellm.AuthenticationError", ""),
        ("aider-refused.txt", "Aider could not add a file it wrote; none of its edits", ""),
        ("aider-usage-limit.txt", "", "Aider: litellm.RateLimitError: RateLimitError:"),
        ("aider-stall-killed.txt", "Aider got no answer from the model", ""),
    ],
)
def test_aider_errors_it_exits_0_on(name: str, error: str, limit: str) -> None:
    outcome, r = parse(name, exit_code=0)
    assert outcome.error.startswith(error) if error else outcome.error == ""
    assert outcome.limit.startswith(limit) if limit else outcome.limit == ""
    if "usage-limit" in name:
        assert [w[1] for w in r.waits] == [0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_aider_a_crash_is_named_not_taken_for_silence() -> None:
    # It prints the traceback, asks whether to open a GitHub issue, and exits 1.
    outcome, _r = parse("aider-crashed.txt", exit_code=1)
    assert outcome.error.startswith("Aider crashed: OSError: Lock for file '$REPO/.git/config'")


# --- whatever a CLI prints -----------------------------------------------------------------


@pytest.mark.parametrize("cli", ["claude", "codex", "gemini", "aider"])
def test_lines_a_parser_does_not_know_are_shown_and_never_crash(cli: str) -> None:
    reporter = RecordingReporter()
    stream: CliStream = DIALECTS[cli].stream(reporter, price, "", False, Path("/nowhere"))
    odd = [
        "plain text",
        "{not json",
        '{"type": "something.new", "x": 1}',
        '{"type": "assistant", "message": 5}',  # a known type, shaped wrong
        '{"type": "item.completed", "item": null}',
        '{"type": "tool_result", "tool_id": 1, "status": []}',
        "\ufffd\ufffd",
        "",
    ]
    for line in odd:
        stream.feed(line, "stdout")
    stream.finish(0)
    shown = [text for text, _stream in reporter.outputs]
    assert "plain text" in shown and "{not json" in shown


def _json(value: object) -> str:
    return json.dumps(value)
