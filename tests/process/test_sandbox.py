"""The bubblewrap sandbox on its own: real bwrap and real processes, no run around them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from maestro_tui.llm.tools import ToolBox
from maestro_tui.process import (
    ProcessResult,
    Sandbox,
    SandboxUnavailable,
    base_env,
    run_streaming,
)
from tests.support.recording import RecordingReporter

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed: apt-get install bubblewrap"
)


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """A checkout, a worktree root with two worktrees, and a home with a secret."""
    paths = {
        "checkout": tmp_path / "checkout",
        "root": tmp_path / "worktrees",
        "mine": tmp_path / "worktrees" / "run" / "mine",
        "other": tmp_path / "worktrees" / "run" / "other",
        "home": tmp_path / "home",
    }
    for path in paths.values():
        path.mkdir(parents=True)
    (paths["checkout"] / "README").write_text("the user's own\n")
    (paths["other"] / "work.py").write_text("X = 1\n")
    (paths["home"] / "secret").write_text("hunter2\n")
    return paths


def sandbox_for(place: dict[str, Path], network: bool = True) -> Sandbox:
    return Sandbox(
        network=network,
        hidden=(place["checkout"], place["root"]),
        writable=(place["mine"],),
    )


async def run_python(
    sandbox: Sandbox, cwd: Path, home: Path, source: str, limit_s: float = 60
) -> tuple[ProcessResult, str]:
    lines: list[str] = []
    result = await run_streaming(
        [sys.executable, "-c", textwrap.dedent(source)],
        cwd=cwd,
        env={**base_env(), "HOME": str(home)},
        timeout_s=limit_s,
        on_line=lambda line, _stream: lines.append(line),
        sandbox=sandbox,
    )
    return result, "\n".join(lines)


PROBE = """
    import os, pathlib
    def attempt(label, action):
        try:
            action()
            print(label, "ok")
        except OSError as exc:
            print(label, type(exc).__name__, exc.strerror)
    p = pathlib.Path
    attempt("write-mine", lambda: p("mine.txt").write_text("mine"))
    attempt("read-secret", lambda: p(os.environ["HOME"], "secret").read_text())
    attempt("write-home", lambda: p(os.environ["HOME"], "x").write_text("x"))
    attempt("read-checkout", lambda: p("{checkout}/README").read_text())
    attempt("write-checkout", lambda: p("{checkout}/new").write_text("x"))
    attempt("read-other", lambda: p("{other}/work.py").read_text())
    attempt("write-other", lambda: p("{other}/work.py").write_text("pwned"))
    attempt("write-usr", lambda: p("/usr/maestro-sandbox-probe").write_text("x"))
"""


@needs_bwrap
async def test_the_agent_writes_only_its_worktree(place: dict[str, Path]) -> None:
    probe = PROBE.replace("{checkout}", str(place["checkout"])).replace(
        "{other}", str(place["other"])
    )
    result, out = await run_python(sandbox_for(place), place["mine"], place["home"], probe)
    assert result.exit_code == 0, out
    said = dict(line.split(" ", 1) for line in out.splitlines())
    assert said["write-mine"] == "ok"
    assert said["read-secret"].startswith("FileNotFoundError")
    assert said["write-home"] == "ok"  # into a throwaway tmpfs …
    assert not (place["home"] / "x").exists()  # … that never reaches the disk
    assert said["read-checkout"].startswith("FileNotFoundError")
    assert said["write-checkout"] == "OSError Read-only file system"
    assert said["read-other"].startswith("FileNotFoundError")
    assert said["write-other"].startswith(("FileNotFoundError", "OSError Read-only"))
    assert said["write-usr"] == "OSError Read-only file system"
    assert (place["mine"] / "mine.txt").read_text() == "mine"
    assert (place["other"] / "work.py").read_text() == "X = 1\n"
    assert sorted(p.name for p in place["checkout"].iterdir()) == ["README"]


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A TCP server on the host's 127.0.0.1 that says hello to whoever connects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)

    def serve() -> None:
        try:
            while True:
                conn, _ = server.accept()
                with conn:
                    conn.sendall(b"hello\n")
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


CONNECT = """
    import socket
    try:
        with socket.create_connection(("127.0.0.1", {port}), timeout=10) as conn:
            print("got", conn.recv(100).decode().strip())
    except OSError as exc:
        print("refused:", exc)
        raise SystemExit(3)
"""


@needs_bwrap
async def test_network_off_reaches_nothing_not_even_the_hosts_loopback(
    place: dict[str, Path], loopback_server: int
) -> None:
    source = CONNECT.replace("{port}", str(loopback_server))
    on, out_on = await run_python(sandbox_for(place), place["mine"], place["home"], source)
    assert (on.exit_code, out_on) == (0, "got hello")
    off, out_off = await run_python(
        sandbox_for(place, network=False), place["mine"], place["home"], source
    )
    assert off.exit_code == 3
    assert "refused:" in out_off and "Connection refused" in out_off


@needs_bwrap
async def test_network_off_with_a_loopback_port_reaches_that_port_only(
    place: dict[str, Path], loopback_server: int
) -> None:
    """A model server on this machine's loopback, reachable from a sandbox without network;
    another port of the same loopback is not."""
    other = socket.create_server(("127.0.0.1", 0))  # listening, but not forwarded
    try:
        sandbox = replace(sandbox_for(place, network=False), loopback_ports=(loopback_server,))
        source = CONNECT.replace("{port}", str(loopback_server))
        for _ in range(2):  # one connection after another
            done, out = await run_python(sandbox, place["mine"], place["home"], source)
            assert (done.exit_code, out) == (0, "got hello")
        source = CONNECT.replace("{port}", str(other.getsockname()[1]))
        refused, out = await run_python(sandbox, place["mine"], place["home"], source)
        assert refused.exit_code == 3 and "Connection refused" in out
    finally:
        other.close()


@needs_bwrap
async def test_a_timeout_stops_everything_inside(place: dict[str, Path]) -> None:
    source = """
        import subprocess, time
        subprocess.Popen(["sleep", "613"], start_new_session=True)
        print("started", flush=True)
        time.sleep(600)
    """
    result, out = await run_python(
        sandbox_for(place), place["mine"], place["home"], source, limit_s=3
    )
    assert result.timed_out and "started" in out
    assert result.duration_s < 30
    left = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "613"]]
    assert not [p for p in left if p.status() != psutil.STATUS_ZOMBIE]


@needs_bwrap
async def test_the_llm_workers_commands_run_in_the_sandbox(place: dict[str, Path]) -> None:
    reporter = RecordingReporter()
    # `python` is found on PATH: this interpreter's folder first (a pyenv shim on PATH needs
    # all of ~/.pyenv, which only [sandbox] read_only = ["~/.pyenv"] would show).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    env = {**base_env(), "HOME": str(place["home"]), "PATH": path}
    box = ToolBox(place["mine"], ["python"], 60, reporter, env=env, sandbox=sandbox_for(place))
    target = place["checkout"] / "pwned"
    command = f"python -c \"open('{target}', 'w').write('x')\""
    answer = await box.execute("run_command", {"command": command})
    assert answer.startswith("exit code 1\n"), answer
    assert "Read-only file system" in answer
    assert not target.exists()
    ok = await box.execute("run_command", {"command": "python -c \"open('made', 'w')\""})
    assert ok.startswith("exit code 0"), ok
    assert (place["mine"] / "made").exists()


def test_a_missing_bwrap_says_how_to_install_it() -> None:
    with pytest.raises(SandboxUnavailable) as caught:
        Sandbox(program="no-such-bwrap-here").check()
    message = str(caught.value)
    assert "'no-such-bwrap-here' is not installed" in message
    assert "apt-get install bubblewrap" in message and 'kind = "none"' in message


NO_NAMESPACES = (
    "echo 0 > /proc/sys/user/max_user_namespaces && echo 0 > /proc/sys/user/max_mnt_namespaces"
    ' && exec "$0" -c "$1"'
)
CHECK = """
from maestro_tui.process import Sandbox, SandboxUnavailable
try:
    Sandbox().check()
except SandboxUnavailable as exc:
    print(exc)
    raise SystemExit(2)
print("available")
"""


@needs_bwrap
def test_where_bwrap_cannot_make_namespaces_the_check_says_so() -> None:
    """A real bwrap, in a user namespace that may make no more namespaces (as on a machine
    with unprivileged user namespaces turned off)."""
    assert subprocess.run([sys.executable, "-c", CHECK], capture_output=True).returncode == 0
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("util-linux's unshare is not installed: apt-get install util-linux")
    argv = [unshare, "--user", "--map-root-user", "sh", "-c", NO_NAMESPACES, sys.executable]
    done = subprocess.run([*argv, CHECK], capture_output=True, text=True, timeout=120)
    if "Permission denied" in done.stderr or "unshare failed" in done.stderr:
        pytest.skip(f"cannot limit namespaces here: {done.stderr.strip()}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot make a sandbox here" in done.stdout
    assert "max_*_namespaces" in done.stdout and "needs user namespaces" in done.stdout


@pytest.fixture
def legacy_layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A checkout, and a task worktree of an old run in .git/maestro-worktrees (its root)."""
    checkout = tmp_path / "repo"
    checkout.mkdir()
    (checkout / "own.txt").write_text("the user's\n")
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid", "-C", str(checkout)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    root = checkout / ".git" / "maestro-worktrees"
    worktree = root / "run" / "task"
    subprocess.run([*git, "worktree", "add", "-q", "--detach", str(worktree)], check=True)
    return checkout, root, worktree


@needs_bwrap
async def test_nested_places_a_worktree_inside_the_hidden_git_dir(
    tmp_path: Path, legacy_layout: tuple[Path, Path, Path]
) -> None:
    """Worktrees of old runs live in .git/maestro-worktrees, inside the hidden checkout: each
    place is mounted after the ones around it, so the worktree is still writable, git still
    reads its metadata, and the checkout's own files stay hidden."""
    checkout, root, worktree = legacy_layout
    sandbox = Sandbox(hidden=(checkout, root), read_only=(checkout / ".git",), writable=(worktree,))
    probe = f"""
        import pathlib, subprocess
        pathlib.Path("new.txt").write_text("x")
        print(subprocess.run(["git", "status", "--short"], capture_output=True, text=True).stdout)
        print("checkout:", sorted(p.name for p in pathlib.Path("{checkout}").iterdir()))
        try:
            pathlib.Path("{checkout}/.git/config").write_text("pwned")
        except OSError as exc:
            print("config:", exc.strerror)
        for change in (lambda: pathlib.Path(".git").write_text("gitdir: /tmp/evil"),
                       lambda: pathlib.Path(".git").unlink()):
            try:
                change()
            except OSError as exc:
                print("link:", exc.strerror)
    """
    result, out = await run_python(sandbox, worktree, tmp_path / "home", probe)
    assert result.exit_code == 0, out
    assert "?? new.txt" in out
    assert "checkout: ['.git']" in out
    assert "config: Read-only file system" in out
    # The worktree's .git, which the run's git reads after the agent, cannot be redirected.
    assert "link: Read-only file system" in out and "link: Device or resource busy" in out
    link = (worktree / ".git").read_text()
    assert link.startswith("gitdir: ") and "evil" not in link
    assert (worktree / "new.txt").exists() and "pwned" not in (checkout / ".git/config").read_text()


@needs_bwrap
async def test_a_checkout_that_is_home_itself_stays_hidden_and_home_writable(
    place: dict[str, Path],
) -> None:
    home = place["checkout"]  # a repository at the root of $HOME
    source = f"""
        import pathlib
        print(sorted(p.name for p in pathlib.Path("{home}").iterdir()))
        pathlib.Path("{home}/.cache-of-a-cli").write_text("x")
        print("wrote")
    """
    result, out = await run_python(sandbox_for(place), place["mine"], home, source)
    assert (result.exit_code, out) == (0, "[]\nwrote"), out
    assert not (home / ".cache-of-a-cli").exists()


@needs_bwrap
async def test_naming_a_program_in_home_shows_its_folder_not_home(place: dict[str, Path]) -> None:
    """An agent's command may name files: only programs' installations are shown, and a
    `~/bin/tool` shows `~/bin`, never $HOME with the secret beside it."""
    home = place["home"]
    (home / "bin").mkdir()
    tool = home / "bin" / "tool"
    secret = home / "secret"
    tool.write_text(f"#!/bin/sh\necho tool ran\ncat {secret}\n")
    tool.chmod(0o755)

    async def run(argv: list[str]) -> tuple[int | None, str]:
        lines: list[str] = []
        result = await run_streaming(
            argv,
            cwd=place["mine"],
            env={**base_env(), "HOME": str(home)},
            timeout_s=60,
            on_line=lambda line, _stream: lines.append(line),
            sandbox=sandbox_for(place),
        )
        return result.exit_code, "\n".join(lines)

    code, out = await run(["cat", str(tool), str(secret)])  # file arguments show nothing
    assert code != 0 and "hunter2" not in out, out
    for argv in ([str(tool)], ["env", "-i", str(tool)]):  # a program: ~/bin shown, not ~
        code, out = await run(argv)
        assert "tool ran" in out and "hunter2" not in out, out
