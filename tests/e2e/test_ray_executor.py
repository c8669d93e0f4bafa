"""Attempts on a real two-node Ray cluster on this machine: `maestro-tui run --executor ray`.

One cluster for the module (a head with a `head` resource, a second node with `agent_clis`);
each run is the real CLI in a subprocess that joins it, so Ray, git, the merge queue and the
store are all the real ones. Skipped only when Ray is not installed (`pip install .[ray]`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.agents.base import WorkerJob
from tests.e2e.conftest import SHOW_FAKE_AGENT, events_of, git, write_config
from tests.support.ray_cluster import LocalCluster, add_node, kill_node_of, running_cluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None,
        reason="Ray is not installed: pip install 'maestro-tui[ray]' (make test does)",
    ),
]

WAIT_S = 150.0  # an upper bound for a run on a busy 2-core machine, not a sleep
# A worker that says where it runs and writes the file its task names. Its parent is the
# reaper that stops what an agent leaves behind; the reaper's parent started the agent.
PROBE = (
    "import os, sys; reaper = open('/proc/%d/stat' % os.getppid()).read().rsplit(')', 1)[1];"
    " print('started by', reaper.split()[1]); print('cwd', os.getcwd());"
    " open(sys.argv[1], 'w').write('done')"
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with running_cluster(cpus_per_node=1) as c:
        yield c


def ray_env(cluster: LocalCluster) -> dict[str, str]:
    """What a maestro-tui process needs to join the cluster (its token, its address)."""
    env = {k: v for k, v in cluster.env.items() if k.startswith("RAY_")}
    return {**env, "RAY_ADDRESS": cluster.address}


def probe_config(project: Path, tmp_path: Path, executor: str = "") -> None:
    workers = "\n".join(
        f'[workers.{name}]\nargv = ["{sys.executable}", "-c", "{PROBE}", "{{task_id}}.txt"]\n'
        f"resources = {{ {resource} = 1 }}\n"
        for name, resource in (("on-head", "head"), ("on-clis", "agent_clis"))
    )
    write_config(project, tmp_path / "fake-state", executor + "\n" + workers)
    git(project, "commit", "-qam", "probe workers")


def run_on(
    cluster: LocalCluster | None, project: Path, tmp_path: Path, plan: str, *extra: str
) -> tuple[subprocess.CompletedProcess[str], int, Path]:
    """`maestro-tui run --plan` headless, joining `cluster`: its result, its pid, its database."""
    (tmp_path / "plan.toml").write_text(plan)
    db = tmp_path / "runs.db"
    env = {**os.environ, **(ray_env(cluster) if cluster is not None else {})}
    env.pop("MAESTRO_TUI_DB", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a hung run shows where each of its threads was
    argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(tmp_path / "plan.toml"),
            "--repo", str(project), "--db", str(db), "--headless", "--yes", *extra]  # fmt: skip
    with subprocess.Popen(
        argv, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        try:
            out, err = proc.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            out, err = proc.communicate(timeout=30)
            logs = cluster.client_server_logs() if cluster is not None else ""
            hung = f"the run hung for {WAIT_S:g} s:\n{out}\n{err[-20000:]}\n{logs}"
            raise AssertionError(hung) from None
        finally:
            proc.kill()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err), proc.pid, db


def one_plan(*tasks: tuple[str, str]) -> str:
    return "".join(
        f'[[tasks]]\nid = "{t}"\nprompt = "write {t}.txt"\nworker = "{w}"\nfiles = ["{t}.txt"]\n'
        for t, w in tasks
    )


def placed(events: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "AttemptPlaced" and e["task"] == task]


def test_a_plan_runs_on_both_nodes_and_merges_through_the_queue(
    cluster: LocalCluster, project: Path, tmp_path: Path
) -> None:
    probe_config(project, tmp_path, '[executor]\nkind = "ray"\naddress = "auto"')
    plan = one_plan(("a", "on-head"), ("b", "on-clis"))
    result, head_pid, db = run_on(cluster, project, tmp_path, plan, "--executor", "ray")
    assert result.returncode == 0, result.stdout + result.stderr

    events = events_of(db)
    assert events[-1]["type"] == "RunFinished" and events[-1]["status"] == "succeeded"
    nodes = set()
    for task in ("a", "b"):
        where = placed(events, task)
        assert [e["step"] for e in where] == ["work"], where  # the tests ran in the same step
        work = where[0]
        nodes.add(work["node"])
        assert re.fullmatch(r"[0-9a-f]{56}", work["node"])
        # The agent's parent is the Ray worker that ran the step, not the maestro process.
        lines = [e["text"] for e in events if e["type"] == "AgentOutput" and e["task"] == task]
        assert f"started by {work['pid']}" in lines, lines
        assert work["pid"] not in (head_pid, os.getpid())
        # It worked in a clone of its own, outside the repository and its worktree root.
        assert f"cwd {work['workdir']}" in lines
        workdir = Path(work["workdir"])
        assert project not in workdir.parents and "maestro-ray" in workdir.parts
        assert not workdir.exists()  # removed once the attempt was over
    assert len(nodes) == 2, "the resource hints put a and b on different nodes"

    # The merge queue merged both on the head: the tests ran, each file landed once.
    integration = str(events[0]["integration_branch"])
    assert {e["task"] for e in events if e["type"] == "Merged"} == {"a", "b"}
    assert git(project, "show", f"{integration}:a.txt") == "done"
    assert git(project, "show", f"{integration}:b.txt") == "done"
    ran = [e for e in events if e["type"] == "TestsRan"]
    assert ran and all(e["passed"] for e in ran)
    trailers = git(project, "log", "--format=%(trailers:key=Maestro-Task,valueonly)", integration)
    assert sorted(t for t in trailers.split() if t) == ["a", "b"]


def test_through_ray_client_from_outside_the_cluster(
    cluster: LocalCluster, project: Path, tmp_path: Path
) -> None:
    address = cluster.client_address  # ray://HOST:PORT, as a KubeRay head is reached
    probe_config(project, tmp_path, f'[executor]\nkind = "ray"\naddress = "{address}"')
    result, _, db = run_on(cluster, project, tmp_path, one_plan(("a", "on-clis")))
    assert result.returncode == 0, result.stdout + result.stderr

    events = events_of(db)
    (work,) = placed(events, "a")
    lines = [e["text"] for e in events if e["type"] == "AgentOutput" and e["task"] == "a"]
    assert f"started by {work['pid']}" in lines  # streamed back through the client
    assert [e["task"] for e in events if e["type"] == "Merged"] == ["a"]


def _events_so_far(db: Path, kind: str, task: str) -> list[dict[str, Any]]:
    """The events of `kind` for `task` that the running process has committed so far."""
    if not db.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as con:
            rows = con.execute("select data from events where type = ?", (kind,)).fetchall()
    except sqlite3.OperationalError:  # the database is still being created
        return []
    return [e for e in (json.loads(d) for (d,) in rows) if e.get("task") == task]


def _wait_for_event(db: Path, kind: str, task: str, n: int = 1) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = _events_so_far(db, kind, task)
        if len(found) >= n:
            return found[n - 1]
        time.sleep(0.2)  # another process writes the database: poll it
    raise AssertionError(f"no {kind} #{n} for {task} in {WAIT_S:g} s")


@pytest.mark.parametrize("lost", ["worker", "node"])
def test_an_attempt_whose_worker_or_node_dies_is_retried_and_merged_once(
    cluster: LocalCluster, project: Path, tmp_path: Path, lost: str
) -> None:
    go = tmp_path / "go"
    config = '[executor]\nkind = "ray"\nmax_retries = 2'
    if lost == "node":  # the agent needs a node with agent_clis: make one more to go on on
        add_node(cluster)
        config = "resources = { agent_clis = 1 }\n" + config  # the fake worker's
    write_config(project, tmp_path / "fake-state", config)
    git(project, "commit", "-qam", "ray config")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        '[[tasks]]\nid = "slow"\nfiles = ["slow.txt"]\n'
        f'prompt = """\n@echo started\n@wait-for {go}\n@write slow.txt :: done\n"""\n'
    )
    db = tmp_path / "runs.db"
    env = {**os.environ, **ray_env(cluster)}
    env.pop("MAESTRO_TUI_DB", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan_file), "--repo",
         str(project), "--headless", "--db", str(db), "--yes"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        first = _wait_for_event(db, "AttemptPlaced", "slow")
        _wait_for_event(db, "AgentOutput", "slow")  # the agent runs, waiting for `go`
        if lost == "worker":
            os.kill(first["pid"], signal.SIGKILL)  # the Ray worker process, mid-attempt
        else:
            kill_node_of(cluster, first["pid"])  # its raylet, its workers, everything
        again = _wait_for_event(db, "AttemptPlaced", "slow", n=2)
        go.write_text("")
        out, _ = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out.decode(errors="replace")

    # Ray ran the step again in another worker, in a fresh clone.
    assert again["pid"] != first["pid"] and again["built"]
    assert again["workdir"] != first["workdir"]
    if lost == "node":
        assert again["node"] != first["node"]  # elsewhere
    events = events_of(db)
    assert events[-1]["status"] == "succeeded"
    # One commit, one merge, the tests green on the integration branch.
    assert [e["task"] for e in events if e["type"] == "TaskCommitted"] == ["slow"]
    assert [e["task"] for e in events if e["type"] == "Merged"] == ["slow"]
    integration = str(events[0]["integration_branch"])
    merges = git(project, "log", "--first-parent", "--format=%s", integration).splitlines()
    assert len([m for m in merges if m.startswith("Merge task")]) == 1
    assert git(project, "show", f"{integration}:slow.txt") == "done"
    git(project, "checkout", "-q", integration)
    green = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, env=env
    )
    assert green.returncode == 0


def test_an_unreachable_cluster_is_a_clear_error_before_anything_runs(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = one_plan(("a", "fake"))
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")  # what address = "auto" goes by
    for address, shown in (("auto", "127.0.0.1:9"), ("ray://127.0.0.1:9", "ray://127.0.0.1:9")):
        write_config(project, tmp_path / "fake-state", f'[executor]\naddress = "{address}"')
        started = time.monotonic()
        result, _, db = run_on(None, project, tmp_path, plan, "--executor", "ray")
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"cannot reach the Ray cluster at {shown}" in result.stderr
        assert "[executor] address" in result.stderr
        assert time.monotonic() - started < 60  # not ray.init's minutes of retrying
        assert not db.exists()  # nothing was written


def test_a_bad_address_in_the_config_says_what_it_should_look_like(
    project: Path, tmp_path: Path
) -> None:
    write_config(project, tmp_path / "fake-state", '[executor]\nkind = "ray"\naddress = "http://x"')
    result, _, _ = run_on(None, project, tmp_path, one_plan(("a", "fake")))
    assert result.returncode == 2
    assert "ray://HOST:PORT" in result.stderr


def test_without_ray_installed_the_error_says_how_to_install_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A `ray` that fails to import, first on the path: as on a machine without the extra.
    shadow = tmp_path / "shadow" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named ray')\n")
    write_config(project, tmp_path / "fake-state", '[executor]\nkind = "ray"')
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    result, _, db = run_on(None, project, tmp_path, one_plan(("a", "fake")))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'maestro-tui[ray]'" in result.stderr
    assert not db.exists()


def test_red_tests_go_back_to_the_agent_in_the_same_clone(
    cluster: LocalCluster, project: Path, tmp_path: Path
) -> None:
    write_config(project, tmp_path / "fake-state", '[executor]\nkind = "ray"')
    git(project, "commit", "-qam", "ray config")
    broken = (
        "@first write calc/ops.py :: def add(a, b):\\\\n    return a - b"  # \\n once TOML read it
    )
    fixed = "@fixing write calc/ops.py :: def add(a, b):\\\\n    return b + a"
    plan = f'[[tasks]]\nid = "t"\nfiles = ["calc/ops.py"]\nprompt = """{broken}\n{fixed}"""\n'
    result, _, db = run_on(cluster, project, tmp_path, plan)
    assert result.returncode == 0, result.stdout + result.stderr

    events = events_of(db)
    assert [e["passed"] for e in events if e["type"] == "TestsRan"] == [False, True]
    first, second = placed(events, "t")
    # The fix round went on in the clone the first round left, on the same node.
    assert (second["node"], second["workdir"], second["built"]) == (
        first["node"], first["workdir"], False,
    )  # fmt: skip
    assert [e["task"] for e in events if e["type"] == "Merged"] == ["t"]
    integration = str(events[0]["integration_branch"])
    assert "return b + a" in git(project, "show", f"{integration}:calc/ops.py")


def test_a_conflict_goes_back_to_its_agent_on_the_cluster(
    cluster: LocalCluster, project: Path, tmp_path: Path
) -> None:
    from tests.e2e.test_conflict_policy import BOTH, PLAN

    # The two tasks name one file and must run at once: the conflict is the point.
    config = '[merge]\non_conflict = "agent"\n[plan]\noverlaps = "parallel"\n'
    config += '[executor]\nkind = "ray"'
    write_config(project, tmp_path / "fake-state", config)
    git(project, "commit", "-qam", "conflicts go to the agent, on ray")
    result, _, db = run_on(cluster, project, tmp_path, PLAN, "--agents", "2")
    assert result.returncode == 0, result.stdout + result.stderr

    events = events_of(db)
    assert [e["task"] for e in events if e["type"] == "TaskFixing"] == ["three"]
    # The round that fixes the conflict starts from a clone holding the markers, built for it.
    assert placed(events, "three")[-1]["built"]
    assert (
        git(project, "show", f"{events[0]['integration_branch']}:calc/settings.py") + "\n" == BOTH
    )


@pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="bubblewrap is not installed: apt-get install bubblewrap"
)
def test_a_sandboxed_agent_on_a_node_can_touch_only_its_clone(
    cluster: LocalCluster, project: Path, tmp_path: Path
) -> None:
    config = '[executor]\nkind = "ray"\n[sandbox]\nkind = "bwrap"\n' + SHOW_FAKE_AGENT
    write_config(project, tmp_path / "fake-state", config)
    git(project, "commit", "-qam", "sandboxed, on ray")
    ops_before = (project / "calc" / "ops.py").read_text()
    plan = (
        '[[tasks]]\nid = "good"\nfiles = ["good.txt"]\n'
        'prompt = """@write good.txt :: fine\n@git status --short"""\n'
        '[[tasks]]\nid = "checkout"\nfiles = ["calc/ops.py"]\n'
        f'prompt = "@write {project}/calc/ops.py :: pwned"\n'
    )
    result, _, db = run_on(cluster, project, tmp_path, plan)
    output = result.stdout + result.stderr
    events = events_of(db)
    failed = {e["task"]: e["reason"] for e in events if e["type"] == "TaskFailed"}
    assert {e["task"] for e in events if e["type"] == "Merged"} == {"good"}, output
    assert "Read-only file system" in failed["checkout"], output
    assert (project / "calc" / "ops.py").read_text() == ops_before
    good = [e["text"] for e in events if e["type"] == "AgentOutput" and e["task"] == "good"]
    assert "?? good.txt" in good  # git works in the clone, read-only
    tests = [e for e in events if e["type"] == "TestsRan" and e["task"] == "good"]
    assert tests and tests[-1]["passed"]


async def test_the_executor_itself_runs_a_test_command_of_its_own_in_the_clone(
    cluster: LocalCluster, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ray_env(cluster).items():  # read when Ray is imported: before that
        monkeypatch.setenv(name, value)
    from maestro_tui.agents.command import CommandWorker
    from maestro_tui.config import Config, WorkerSpec, with_overrides
    from maestro_tui.domain import events as ev
    from maestro_tui.domain.plan import Task
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.engine.executors import RayExecutor
    from maestro_tui.workspace.repo import Workspace

    ws = Workspace.open(project)
    config = with_overrides(Config(), executor_kind="ray", test_command="")
    bus = EventBus("r")
    placed_events: list[ev.AttemptPlaced] = []

    def keep_placed(e: ev.Event) -> None:
        if isinstance(e, ev.AttemptPlaced):
            placed_events.append(e)

    bus.subscribe(keep_placed)
    ex = await RayExecutor.connect(ws, config, bus)
    try:
        base = ws.head_commit()
        copy = await ex.open("r", "t", 1, base)
        worker = CommandWorker(WorkerSpec("w", argv=(sys.executable, "-c", PROBE, "t.txt")))
        job = WorkerJob(run_id="r", task=Task("t", "t", "p"), attempt=1, worktree=copy.path)
        result = await copy.run(worker, job, Lines())
        info = await copy.commit(base, "t", result.summary, {"Maestro-Task": "t"})
        assert info is not None and info.files == ("t.txt",)
        assert git(project, "show", "maestro-task/r/t:t.txt") == "done"
        # No test command in the work step: the tests are a step of their own, on the commit.
        check = f"{sys.executable} -c \"print(open('t.txt').read())\""
        tests = await copy.run_tests(check, 60, {"PATH": os.environ["PATH"]})
        await copy.close()
    finally:
        await ex.aclose()
    assert tests.passed and "done" in tests.output_tail
    assert [e.step for e in placed_events] == ["work", "tests"]
    work, again = placed_events
    assert (again.node, again.workdir, again.built) == (work.node, work.workdir, False)


class Lines:
    """A reporter that keeps what the worker says."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: self.lines.append(f"{name}: {args}")
