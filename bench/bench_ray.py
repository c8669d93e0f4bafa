"""Ray executor overhead: one attempt through the executor against a raw `ray.remote` call.

A real Ray cluster of two local nodes (the tests' helper). The repository's base bundle and
the agent's commit bundle are ~200 KB each. Baseline, same cluster: a `ray.remote` function
that takes bytes of the base bundle's size and returns bytes of the commit bundle's size.

An attempt's step (`RayCopy.run`) is timed on the head; its scheduling overhead is that time
less the time the node spent in the step's body (cloning from the bundle, the agent, the
commit and its bundle), which a local worktree would spend too. Target: the overhead is at
most 2x the raw round trip, best of several attempts. The head's git work (the task branch at
open, the commit fetched from its bundle) is printed apart.
"""

from __future__ import annotations

import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import WorkerJob
from maestro_tui.agents.command import CommandWorker
from maestro_tui.config import Config, WorkerSpec, with_overrides
from maestro_tui.domain.plan import Task
from maestro_tui.engine.bus import EventBus
from maestro_tui.workspace.repo import Workspace

ATTEMPTS = 12
WARMUP = 3  # the first steps import maestro_tui in fresh Ray workers
PAYLOAD = 265_000  # bytes of base64 text, in the base and in the result: ~200 KB bundles
TARGET = 2.0


def text(size: int) -> str:
    return base64.b64encode(os.urandom(size * 3 // 4)).decode()


# The agent: a command that writes ~PAYLOAD bytes of new text in its worktree.
WRITE = (
    "import os, base64; open('result.txt', 'w').write(base64.b64encode(os.urandom(%d)).decode())"
)


def make_repo(root: Path) -> Workspace:
    repo = root / "repo"
    repo.mkdir()
    (repo / "data.txt").write_text(text(PAYLOAD))
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)
    return Workspace.open(repo)


async def attempts(ws: Workspace, address: str) -> dict[str, Any]:
    from maestro_tui.engine.executors import RayCopy, RayExecutor

    config = with_overrides(Config(), executor_kind="ray", executor_address=address)
    ex = await RayExecutor.connect(ws, config, EventBus("bench"))
    spec = WorkerSpec("bench", argv=(sys.executable, "-c", WRITE % (PAYLOAD * 3 // 4)))
    base, worker = ws.head_commit(), CommandWorker(spec)
    steps, bodies, heads = [], [], []
    sizes = (0, 0)
    try:
        for n in range(1, WARMUP + ATTEMPTS + 1):
            t0 = time.perf_counter()
            copy = await ex.open("bench", "t", n, base)
            t1 = time.perf_counter()
            job = WorkerJob(run_id="bench", task=Task("t", "t", "p"), attempt=n, worktree=copy.path)
            await copy.run(worker, job, NullReporter())
            t2 = time.perf_counter()
            info = await copy.commit(base, "t", "a result", {})
            t3 = time.perf_counter()
            await copy.close()
            assert info is not None and isinstance(copy, RayCopy) and copy.last is not None
            if n > WARMUP:
                steps.append(t2 - t1)
                bodies.append(copy.last.seconds)
                heads.append((t1 - t0) + (t3 - t2))
            sizes = (len(await (await ex.base_bundle(base))), len(copy.last.pack or b""))
        raw = await round_trips(ex.ray, *sizes)
    finally:
        await ex.aclose()
    return {"steps": steps, "bodies": bodies, "heads": heads, "raw": raw, "sizes": sizes}


async def round_trips(ray: Any, size_in: int, size_out: int) -> list[float]:
    """The baseline: bytes in, bytes out, through a plain `ray.remote` function."""

    def echo(data: bytes, size: int) -> bytes:
        return os.urandom(size)

    remote = ray.remote(echo)
    times = []
    for n in range(WARMUP + ATTEMPTS):
        payload = os.urandom(size_in)
        t0 = time.perf_counter()
        await remote.remote(payload, size_out)
        if n >= WARMUP:
            times.append(time.perf_counter() - t0)
    return times


class NullReporter:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def main() -> int:
    if not importlib_has("ray"):
        print("  skipped: Ray is not installed (pip install 'maestro-tui[ray]')")
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.ray_cluster import running_cluster

    with running_cluster(cpus_per_node=1) as cluster, tempfile.TemporaryDirectory() as tmp:
        os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("RAY_")})
        figures = asyncio.run(attempts(make_repo(Path(tmp)), cluster.address))
    steps, bodies, raw = figures["steps"], figures["bodies"], figures["raw"]
    overhead = [s - b for s, b in zip(steps, bodies, strict=True)]
    size_in, size_out = figures["sizes"]
    print(
        f"2 local nodes, {ATTEMPTS} attempts; bundles {size_in / 1000:.0f} KB in,"
        f" {size_out / 1000:.0f} KB out; ms (best / median)"
    )
    rows = (
        ("raw ray.remote round trip", raw),
        ("attempt step, on the head", steps),
        ("  of which the node's body", bodies),
        ("  scheduling overhead", overhead),
        ("head git (branch, commit)", figures["heads"]),
    )
    for label, values in rows:
        print(f"  {label:<28}{min(values) * 1000:8.1f} {statistics.median(values) * 1000:8.1f}")
    best = min(overhead) / min(raw)
    median = statistics.median(overhead) / statistics.median(raw)
    verdict = "ok" if best <= TARGET else "OVER TARGET"
    print(f"  overhead / raw round trip {best:.2f}x (median {median:.2f}x),"
          f" target <= {TARGET}x: {verdict}")  # fmt: skip
    return 0


def importlib_has(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
