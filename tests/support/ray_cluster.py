"""A real Ray cluster of two nodes on this machine, for the tests and the benchmark.

The head has a `head` resource, the second node an `agent_clis` resource, so work can be put on
the second node by asking for it. Each cluster gets its own HOME, temp dir, ports and auth
token: nothing leaks between runs or into a cluster another user of the machine runs. Each
`ray start --block` process is its own process group; stopping kills those groups (never a
`ray stop`, which would stop every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ray_program() -> str:
    found = Path(sys.executable).parent / "ray"
    return str(found) if found.exists() else "ray"


@dataclass
class LocalCluster:
    """Two `ray start` nodes; `env` is what a driver (or a maestro-tui process) needs to join."""

    root: Path
    address: str  # the head's GCS, HOST:PORT
    client_address: str  # its Ray Client server, ray://HOST:PORT
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client_server_logs(self, chars: int = 3000) -> str:
        """The tail of each Ray Client server's log on the head: where a hung client's
        requests went."""
        logs = sorted((self.root / "ray" / "session_latest" / "logs").glob("ray_client_server*"))
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
            for p in logs
            if p.stat().st_size
        )

    def stop(self) -> None:
        """Stop every process the nodes started: SIGTERM to each group, then SIGKILL."""
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in self.procs:  # what a node left behind (its workers) goes with its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


def _start_node(cluster: LocalCluster, args: list[str], log: str) -> None:
    out = open(cluster.root / log, "wb")  # noqa: SIM115 - kept open for the node's life
    proc = subprocess.Popen(
        [ray_program(), "start", "--block", "--disable-usage-stats", *args],
        env=cluster.env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cluster.procs.append(proc)
    _wait_until_started(cluster, log)


def _wait_until_started(cluster: LocalCluster, log: str) -> None:
    """Until the node's `ray start` says it started (it takes seconds), or fails."""
    proc, path = cluster.procs[-1], cluster.root / log
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if "Ray runtime started" in text:
            return
        if proc.poll() is not None:
            raise RuntimeError(f"ray start exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.1)  # a node starting in another process: there is no event to wait on
    raise RuntimeError(f"ray start did not finish in {START_TIMEOUT_S:g} s: see {path}")


def start_cluster(cpus_per_node: int = 1, second_node: bool = True) -> LocalCluster:
    """A head node (resource `head`) and a second node (resource `agent_clis`)."""
    root = Path(tempfile.mkdtemp(prefix="mrt-", dir="/tmp"))  # short: unix socket paths
    home = root / "home"
    home.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(
        HOME=str(home),
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(16),
        RAY_USAGE_STATS_ENABLED="0",
        # The head's Ray Client proxy forks a session server per client while its gRPC
        # threads are busy; with gRPC's fork handlers on, that child often dies at once
        # (SIGSEGV, SIGABRT: 3 first joins of 9 here) and the client waits minutes to hear.
        GRPC_ENABLE_FORK_SUPPORT="0",
        # A node that stops answering is declared dead in ~2 s, not ~15 s.
        RAY_health_check_period_ms="500",
        RAY_health_check_failure_threshold="4",
    )
    client_port = free_port()
    cluster = LocalCluster(root, f"127.0.0.1:{port}", f"ray://127.0.0.1:{client_port}", env)
    common = ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus_per_node}"]
    try:
        _start_node(
            cluster,
            [
                "--head",
                f"--port={port}",
                f"--ray-client-server-port={client_port}",
                f"--temp-dir={root / 'ray'}",
                f"--dashboard-agent-listen-port={free_port()}",
                "--include-dashboard=false",
                '--resources={"head": 1}',
                *common,
            ],
            "head.log",
        )
        if second_node:
            add_node(cluster, cpus_per_node)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def add_node(cluster: LocalCluster, cpus: int = 1) -> None:
    """One more node with the `agent_clis` resource."""
    _start_node(
        cluster,
        [
            f"--address={cluster.address}",
            f"--dashboard-agent-listen-port={free_port()}",
            '--resources={"agent_clis": 1}',
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={cpus}",
        ],
        f"node{len(cluster.procs) + 1}.log",
    )


def kill_node_of(cluster: LocalCluster, worker_pid: int) -> None:
    """SIGKILL the node whose Ray worker is `worker_pid`, as if its machine went away: its
    `ray start` process group (the raylet and its agents) and every process below it (Ray
    workers are process groups of their own). Never the head."""
    import psutil

    nodes = {p.pid: p for p in cluster.procs[1:]}
    chain = [psutil.Process(worker_pid), *psutil.Process(worker_pid).parents()]
    group = next((os.getpgid(p.pid) for p in chain if os.getpgid(p.pid) in nodes), None)
    if group is None:
        raise RuntimeError(f"worker {worker_pid} is not below any node but the head's")
    below = psutil.Process(group).children(recursive=True)
    os.killpg(group, signal.SIGKILL)
    for proc in below:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


@contextlib.contextmanager
def running_cluster(**kwargs: int | bool) -> Iterator[LocalCluster]:
    cluster = start_cluster(**kwargs)  # type: ignore[arg-type]
    try:
        yield cluster
    finally:
        cluster.stop()
