"""A tiny program that runs an agent and stops everything the agent started, when it ends.

    python -I -S reaper.py REPORT_FD GRACE_S -- PROGRAM ARGS...

It makes itself a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`), so a process the agent
starts in a new session or process group (`setsid`, `nohup … &`, a dev server) is re-parented
to it rather than to init and stays findable. When the agent exits, or this program gets
SIGTERM/SIGINT/SIGHUP (a timeout, a stall, a cancel, or the parent dying), every process left
below it gets SIGTERM, then SIGKILL after GRACE_S; one line per process stopped ("PID
COMMAND") goes to REPORT_FD, then it exits with the agent's exit code (128 + N for signal N).

It holds no copy of the agent's stdin/stdout/stderr, so the pipes close as soon as the last
process holding them is gone. Standard library only: it runs with -I -S, in ~15 ms. Without
prctl (not Linux) it still runs the agent and stops what it can find below itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
REPORT_LIMIT = 50  # processes named in the report; the rest are counted


class Stop(Exception):
    """Raised from a signal handler to leave a blocking waitpid."""


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(option, value, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state letter) of every process we can see."""
    found: dict[int, tuple[int, str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 2:
            found[int(name)] = (int(fields[1]), fields[0])
    return found


def _below(root: int) -> list[int]:
    """Live (not zombie) descendants of `root`."""
    table = _parents()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _state) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    stack = list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        if table.get(pid, (0, "Z"))[1] not in ("Z", "X"):
            found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        argv = []
    if not argv:  # a process between fork and exec, or already exiting: its short name
        try:
            with open(f"/proc/{pid}/comm", "rb") as f:
                argv = [f.read().decode("utf-8", "replace").strip()]
        except OSError:
            argv = ["?"]
    text = " ".join(argv)
    return f"{pid} {text[:160]}"


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def stop_everything_below(me: int, grace_s: float) -> list[str]:
    """SIGTERM every process below `me`, SIGKILL what is left after `grace_s`; name them."""
    named: dict[int, str] = {}
    deadline = time.monotonic() + grace_s
    give_up = deadline + 5.0  # a process stuck in the kernel (state D) cannot hold us forever
    killing = False
    while True:
        _reap()
        alive = _below(me)
        if not alive or time.monotonic() >= give_up:
            break
        if not killing and time.monotonic() >= deadline:
            killing = True
        for pid in alive:
            first = pid not in named
            seen = _describe(pid)  # each time: one caught between fork and exec changes name
            if first or not seen.endswith(" ?"):
                named[pid] = seen
            if first or killing:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL if killing else signal.SIGTERM)
        time.sleep(0.02)
    _reap()
    return list(named.values())


def main(argv: list[str]) -> int:
    report_fd, grace_s = int(argv[1]), float(argv[2])
    program = argv[4:]
    os.set_inheritable(report_fd, False)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    pid = os.fork()
    if pid == 0:
        for sig in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execv(program[0], program)
        except OSError as exc:
            os.write(2, f"cannot start {program[0]}: {exc}\n".encode())
        os._exit(127)
    # Hand the agent's streams over: only it (and what it starts) holds the pipes now.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)

    def stop(signum: int, frame: object) -> None:
        raise Stop

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    status: int | None = None
    stopped = False
    try:
        while status is None:
            try:
                done, st = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if done == pid:
                status = st
    except Stop:
        stopped = True
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    names = stop_everything_below(os.getpid(), grace_s)
    if status is None and not stopped:
        status = 0
    report = "".join(f"{n}\n" for n in names[:REPORT_LIMIT])
    if len(names) > REPORT_LIMIT:
        report += f"… and {len(names) - REPORT_LIMIT} more\n"
    with contextlib.suppress(OSError):
        os.write(report_fd, report.encode())
    if status is None:
        return 128 + signal.SIGTERM
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
