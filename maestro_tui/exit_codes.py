"""The CLI's exit codes, in one place (imported by `--help`, so it imports nothing)."""

EXIT_OK = 0  # every task merged, or had nothing to merge
EXIT_TASK_FAILED = 1  # a task failed, was blocked or rejected, or the budget ran out
EXIT_BAD_INPUT = 2  # bad input: nothing was written
EXIT_REVIEW = 3  # merges wait for review
EXIT_INTERRUPTED = 130  # interrupted; `maestro-tui resume RUN` goes on
