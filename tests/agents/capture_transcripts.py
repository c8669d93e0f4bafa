"""Capture what the real CLIs print, as fixtures for the stream parsers: tests/agents/transcripts/.

    .venv/bin/python -m tests.agents.capture_transcripts [NAME ...]    (default: all)

Each transcript is the CLI's stdout in its structured mode, exactly, except that the run's
temporary paths become $WORKTREE, $REPO, $LAB (each run's HOME and TMPDIR are under it) and
$TMP, and the server's port becomes PORT. index.json holds, per transcript, the argv, exit
code, duration and what the server was asked and answered.
Re-run it after bumping a pin in scripts/install-agent-clis, and read the diff.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.agents.cli_harness import AGENTS, CLIS, CliRun, Lab
from tests.agents.netns import NetNamespace
from tests.agents.servers.core import Fault, RecordedRequest, Step, ToolCall, Turn
from tests.agents.servers.openai_chat import whole_edit
from tests.agents.servers.openai_responses import apply_patch_add, apply_patch_update

OUT = Path(__file__).parent / "transcripts"
SUFFIX = {"claude": "jsonl", "codex": "jsonl", "gemini": "jsonl", "aider": "txt"}
Runs = list[tuple[str, CliRun]]


def in_workdir(tool: str, **args: str) -> Step:
    def step(request: RecordedRequest) -> Turn:
        call = {k: f"{request.workdir}/{v}" if k == "file_path" else v for k, v in args.items()}
        return Turn(text=f"Calling {tool}.", tool_calls=(ToolCall(tool, call),))

    return step


def patch(body: str) -> Turn:
    return Turn(tool_calls=(ToolCall("apply_patch", body),))


GREET_NEW = '    return "hi there"'
CODEX_WORKTREE_ONLY = ["-c", "sandbox_workspace_write.exclude_slash_tmp=true",
                       "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true"]  # fmt: skip
EDIT_SCRIPTS: dict[str, list[Step]] = {
    "claude": [
        in_workdir("Write", file_path="hello.py", content="print('hello')\n"),
        in_workdir("Read", file_path="greet.py"),
        in_workdir("Edit", file_path="greet.py", old_string='"hello"', new_string='"hi there"'),
        Turn(text="Added hello.py and changed the greeting."),
    ],
    "codex": [
        patch(apply_patch_add("hello.py", "print('hello')")),
        patch(apply_patch_update("greet.py", '    return "hello"', GREET_NEW)),
        Turn(tool_calls=(ToolCall("exec_command", {"cmd": "python3 hello.py"}),)),
        Turn(text="Added hello.py and changed the greeting."),
    ],
    "gemini": [
        in_workdir("write_file", file_path="hello.py", content="print('hello')\n"),
        in_workdir(
            "replace",
            file_path="greet.py",
            instruction="Warmer greeting.",
            old_string='    return "hello"',
            new_string=GREET_NEW,
        ),  # fmt: skip
        Turn(tool_calls=(ToolCall("run_shell_command", {"command": "python3 hello.py"}),)),
        Turn(text="Added hello.py and changed the greeting."),
    ],
    "aider": [
        Turn(
            text=whole_edit("greet.py", f"def greet():\n{GREET_NEW}\n", "Changing the greeting.")
            + "\n"
            + whole_edit("hello.py", "print('hello')\n"),
            usage=(1234, 56),
        )
    ],
}
REFUSAL_SCRIPTS: dict[str, list[Step]] = {
    "claude": [
        in_workdir("Write", file_path="vendor/.git/config", content="x\n"),
        in_workdir("Write", file_path="../outside.txt", content="x\n"),
        Turn(text="I could not write either file."),
    ],
    "codex": [
        patch(apply_patch_add("../outside.txt", "x")),
        Turn(tool_calls=(ToolCall("exec_command", {"cmd": "echo x > ../outside.txt"}),)),
        Turn(text="I could not write outside the project."),
    ],
    "gemini": [
        in_workdir("write_file", file_path="../outside.txt", content="x\n"),
        in_workdir("write_file", file_path="vendor/.git/config", content="x\n"),
        Turn(text="I could not write either file."),
    ],
    "aider": [Turn(text=whole_edit("greet.py", "print(1)\n") + "\n" + whole_edit("../o.txt", "x"))],
}
# Variables and flags that keep the error captures short (defaults retry for minutes).
FEW_RETRIES: dict[str, tuple[dict[str, str], list[str]]] = {
    "claude": ({"CLAUDE_CODE_MAX_RETRIES": "2"}, []),
    "codex": ({}, []),
    "gemini": ({}, []),
    "aider": ({}, []),
}


def scenarios(cli: str) -> dict[str, Callable[[Lab, Path], Runs]]:
    model = {"claude": "claude-sonnet-4-5", "codex": "gpt-5.5", "gemini": "gemini-2.5-flash",
             "aider": "openai/gpt-4o"}[cli]  # fmt: skip
    files = ["greet.py"] if cli == "aider" else []
    env, flags = FEW_RETRIES[cli]

    def edit(lab: Lab, wt: Path) -> Runs:
        lab.server.script(*EDIT_SCRIPTS[cli])
        return [("", lab.run("Add hello.py; greet warmly.", wt, model=model, extra=files))]

    def refused(lab: Lab, wt: Path) -> Runs:
        lab.server.script(*REFUSAL_SCRIPTS[cli])
        extra = CODEX_WORKTREE_ONLY if cli == "codex" else files
        return [("", lab.run("Write outside your directory.", wt, extra=extra))]

    def fault(kind: str, retry_after: float | None = None) -> Callable[[Lab, Path], Runs]:
        def scenario(lab: Lab, wt: Path) -> Runs:
            lab.server.fail(Fault(kind, retry_after), times=1 if retry_after else 30)
            lab.server.script(Turn(text="Answered after the retry."))
            run = lab.run("Say something.", wt, env=env, extra=flags + files, timeout_s=300)
            return [("", run)]

        return scenario

    def stall(lab: Lab, wt: Path) -> Runs:
        lab.server.fail("stall", times=5)
        return [("", lab.run("Say something.", wt, extra=files, stalled_for_s=8))]

    def resume(lab: Lab, wt: Path) -> Runs:
        lab.server.script(Turn(text="The word is PAPAYA."), Turn(text="It was PAPAYA."))
        first_extra = ["--session-id", str(uuid.uuid4())] if cli == "gemini" else files
        first = lab.run("Remember a word.", wt, extra=first_extra)
        line = first.json_lines()[0] if cli != "aider" else {}
        session = line.get("session_id") or line.get("thread_id") or ""
        again = {
            "claude": ["--resume", session],
            "codex": ["resume", session],
            "gemini": ["--resume", session],
            "aider": ["--restore-chat-history", *files],
        }[cli]
        return [("1", first), ("2", lab.run("Which word?", wt, home=lab.last_home(), extra=again))]

    def crashed(lab: Lab, wt: Path) -> Runs:
        # Aider with no git identity writes a placeholder one into the repository's config,
        # which every worktree shares: parallel copies crash on one another's lock.
        lock = wt.parent.parent / "repo" / ".git" / "config.lock"
        lock.touch()
        try:
            return [("", lab.run("Say something.", wt, extra=files))]
        finally:
            lock.unlink()

    found = {
        "edit": edit,
        "refused": refused,
        "bad-key": fault("bad_key"),
        "rate-limit-retried": fault("rate_limit", retry_after=1.0),
        "usage-limit": fault("usage_limit"),
        "stall-killed": stall,
        "resume": resume,
    }
    if cli == "aider":
        found["crashed"] = crashed
    return found


def sanitize(text: str, lab: Lab, worktree: Path) -> str:
    """Our run's paths and port become placeholders; everything else stays as printed."""
    root = worktree.parent.parent
    places = ((worktree, "$WORKTREE"), (root / "repo", "$REPO"), (lab.root, "$LAB"), (root, "$TMP"))
    for path, name in places:
        text = text.replace(str(path), name)
        text = text.replace(re.sub(r"[^A-Za-z0-9]", "-", str(path)), name)  # Claude's dir names
    text = text.replace(str(AGENTS), "$AGENTS")
    return text.replace(f"127.0.0.1:{lab.server.port}", "127.0.0.1:PORT")


def summary(request: RecordedRequest) -> dict[str, Any]:
    return {"path": request.path, "model": request.model, "status": request.status,
            "fault": request.fault, "usage": request.usage}  # fmt: skip


def capture(cli: str, name: str, scenario: Callable[[Lab, Path], Runs]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lab") as tmp, NetNamespace() as ns:
        root = Path(tmp)
        repo, worktree = root / "repo", root / "worktrees" / "task-1"
        repo.mkdir()
        (repo / "README.md").write_text("# sample\n")
        (repo / "greet.py").write_text('def greet():\n    return "hello"\n')
        git = ["git", "-c", "user.name=lab", "-c", "user.email=lab@localhost", "-C", str(repo)]
        for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "initial"]):
            subprocess.run(git + args, check=True)
        subprocess.run(git + ["worktree", "add", "-q", "-b", "task-1", str(worktree)], check=True)
        with CLIS[cli].server().start(ns) as server:
            lab = Lab(CLIS[cli], ns, server, root / "lab")
            runs = scenario(lab, worktree)
            entries = {}
            for (part, run), start, end in zip(runs, [0, *lab.marks[:-1]], lab.marks, strict=True):
                stem = f"{cli}-{name}" + (f"-{part}" if part else "")
                file = OUT / f"{stem}.{SUFFIX[cli]}"
                file.write_text(sanitize(run.stdout, lab, worktree))
                argv = [sanitize(a, lab, worktree) for a in run.argv]
                entries[file.name] = {
                    "argv": [Path(argv[0]).name, *(a[:200] for a in argv[1:])],
                    "exit_code": run.exit_code,
                    "killed_after_s": round(run.duration_s, 1) if run.timed_out else None,
                    "duration_s": round(run.duration_s, 1),
                    "requests": [summary(r) for r in server.requests[start:end]],
                }
            return entries


def main(names: list[str]) -> int:
    OUT.mkdir(exist_ok=True)
    index_file = OUT / "index.json"
    index = json.loads(index_file.read_text()) if index_file.exists() else {}
    for cli in CLIS:
        for name, scenario in scenarios(cli).items():
            if names and f"{cli}-{name}" not in names and cli not in names:
                continue
            print(f"capturing {cli}-{name}", file=sys.stderr)
            index.update(capture(cli, name, scenario))
    stamps = sorted(p.name for p in (AGENTS / "stamps").iterdir())
    index["_versions"] = {s.split("-", 1)[0]: s.split("-", 1)[1] for s in stamps}
    index_file.write_text(json.dumps(dict(sorted(index.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
