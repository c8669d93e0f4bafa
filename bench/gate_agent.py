"""A cheap stand-in coding agent for bench_gate: it applies the `@write PATH :: TEXT` lines of
its prompt (`\\n` for newlines); `@fixing write …` lines only when the prompt carries feedback."""

import sys
from pathlib import Path


def main() -> int:
    prompt = sys.argv[1]
    fixing = "## Feedback on the previous attempt" in prompt
    for raw in prompt.splitlines():
        line = raw.strip()
        if line.startswith("@fixing "):
            if not fixing:
                continue
            line = "@" + line.removeprefix("@fixing ")
        if line.startswith("@write "):
            path, _, text = line.removeprefix("@write ").partition(" :: ")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text.replace("\\n", "\n") + "\n")
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
