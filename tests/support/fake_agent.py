"""A scripted stand-in for a coding CLI, for tests: obeys `@verb` lines in its prompt argument.

  @write PATH :: TEXT       write TEXT (\\n escapes) to PATH, creating directories
  @append PATH :: TEXT      append TEXT and a newline to PATH
  @sleep SECONDS            wait (lets a test kill the run mid-flight)
  @wait-for PATH            wait (up to a minute) until PATH exists: a test says when to go on
  @fail-once KEY            fail the first time KEY is seen (state kept in $FAKE_STATE)
  @fail MESSAGE             always fail
  @echo TEXT                print TEXT
  @read PATH                print PATH's text (fails, with the error, when it cannot)
  @git ARGS…                run git with ARGS (split on spaces); fails when git does
  @connect HOST:PORT        open a TCP connection (fails, with the error, when it cannot)
  @first VERB …             only when the prompt carries no feedback (a first try)
  @fixing VERB …            only when it carries feedback (the fix loop or a critic sent it back)
Every other line of the prompt (context sections, prose) is ignored.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    prompt = sys.argv[1]
    has_feedback = "## Feedback on the previous attempt" in prompt
    for raw in prompt.splitlines():
        line = raw.strip()
        if not line.startswith("@"):
            continue
        verb, _, rest = line[1:].partition(" ")
        if verb in ("first", "fixing"):
            if (verb == "fixing") != has_feedback:
                continue
            verb, _, rest = rest.partition(" ")
        if verb in ("write", "append"):
            path, _, text = rest.partition(" :: ")
            target = Path(path).expanduser()
            target.parent.mkdir(parents=True, exist_ok=True)
            text = text.replace("\\n", "\n")
            if verb == "write":
                target.write_text(text + ("" if text.endswith("\n") else "\n"))
            else:
                with target.open("a") as fh:
                    fh.write(text + "\n")
            print(f"{verb} {path}", flush=True)
        elif verb == "sleep":
            time.sleep(float(rest))
        elif verb == "wait-for":
            deadline = time.monotonic() + 60
            while not Path(rest).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        elif verb == "fail-once":
            marker = Path(os.environ["FAKE_STATE"]) / f"failed-{rest}"
            if not marker.exists():
                marker.write_text("x")
                print(f"failing once for {rest}", file=sys.stderr)
                return 1
        elif verb == "fail":
            print(rest, file=sys.stderr)
            return 1
        elif verb == "echo":
            print(rest, flush=True)
        elif verb == "read":
            print(Path(rest).expanduser().read_text(), flush=True)
        elif verb == "git":
            done = subprocess.run(["git", *rest.split()], capture_output=True, text=True)
            print(done.stdout + done.stderr, flush=True)
            if done.returncode:
                return done.returncode
        elif verb == "connect":
            host, _, port = rest.rpartition(":")
            with socket.create_connection((host, int(port)), timeout=10):
                print(f"connected to {rest}", flush=True)
    print("done: all instructions applied", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
