"""Record the transcript bench_cli_parse.py reads: a long, real Claude Code session.

    .venv/bin/python -m bench.record_claude_stream        (needs `make agent-clis` and root)

Claude Code runs through our preset's flags (stream-json with partial messages) against the
lab's loopback Anthropic server, in its private network namespace, for as many turns as it
takes to print 10,000 lines: each turn some prose, then a Write, a Read, an Edit or a Bash
call, as a session at work would. Its stdout, with the run's paths replaced, is kept as
bench/data/claude-stream.jsonl.xz (about 10k lines).
"""

from __future__ import annotations

import lzma
import tempfile
from pathlib import Path

from tests.agents.cli_harness import CLIS, Lab
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import RecordedRequest, Step, ToolCall, Turn

OUT = Path(__file__).parent / "data" / "claude-stream.jsonl.xz"
TURNS = 306
PROSE = (
    "Looking at the module, the parsing of the header is done twice and the second pass "
    "ignores the encoding the first one found. I will keep one pass and pass the encoding on. "
)


def turn(n: int) -> Step:
    def step(request: RecordedRequest) -> Turn:
        path = f"{request.workdir}/src/module_{n % 7}.py"
        text = f"Step {n}. " + PROSE * (3 + n % 4)
        kind = n % 4
        if kind == 0:
            body = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(40))
            call = ToolCall("Write", {"file_path": path, "content": body})
        elif kind == 1:
            call = ToolCall("Read", {"file_path": path})
        elif kind == 2:
            old, new = "return x * 1\n", f"return x * {n}\n"
            call = ToolCall("Edit", {"file_path": path, "old_string": old, "new_string": new})
        else:
            call = ToolCall("Bash", {"command": f"ls src | head -{n % 9 + 1}"})
        return Turn(text=text, tool_calls=(call,))

    return step


def main() -> None:
    cli = CLIS["claude"]
    with tempfile.TemporaryDirectory() as tmp, NetNamespace() as ns:
        root = Path(tmp)
        work = root / "work"
        (work / "src").mkdir(parents=True)
        for i in range(7):
            (work / "src" / f"module_{i}.py").write_text("def f1(x):\n    return x * 1\n")
        script: list[Step] = [turn(n) for n in range(TURNS)] + [Turn(text="All done.")]
        server = cli.server(script).start(ns)
        lab = Lab(cli, ns, server, root / "lab")
        try:
            run = lab.run(
                "Tidy the modules.",
                work,
                model="claude-sonnet-4-5",
                extra=["--include-partial-messages", "--max-turns", str(TURNS + 5)],
                timeout_s=600,
            )
        finally:
            server.stop()
        text = run.stdout.replace(str(work), "$WORKTREE").replace(str(root), "$TMP")
        text = text.replace(str(server.port), "PORT")
        # Claude Code names its project folder after the mangled path: keep none of it.
        text = text.replace(str(work).replace("/", "-"), "-TMP-work")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_bytes(lzma.compress(text.encode(), preset=9))
    print(f"{len(text.splitlines())} lines, exit {run.exit_code}, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
