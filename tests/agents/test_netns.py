"""The lab's network namespace: loopback only, shared by the server and the programs in it."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from tests.agents import netns
from tests.agents.cli_harness import base_env, run_in_netns
from tests.agents.servers.core import Turn
from tests.agents.servers.openai_chat import chat_server

pytestmark = pytest.mark.skipif(
    netns.unavailable_reason() is not None, reason=str(netns.unavailable_reason())
)

PROBE = """
import json, sys, urllib.request
devices = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
routes = open("/proc/net/route").read().splitlines()[1:]
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
request = urllib.request.Request(sys.argv[1] + "/v1/chat/completions", body,
                                 {"Content-Type": "application/json"})
answer = json.load(urllib.request.urlopen(request, timeout=5))
print(json.dumps({"devices": devices, "routes": routes,
                  "text": answer["choices"][0]["message"]["content"]}))
"""


def test_a_program_inside_sees_only_loopback_and_reaches_the_server(tmp_path: Path) -> None:
    with netns.NetNamespace() as ns, chat_server([Turn(text="hello from the lab")]) as server:
        server.start(ns)
        run = run_in_netns(
            [sys.executable, "-c", PROBE, server.url],
            ns,
            cwd=tmp_path,
            env=base_env(tmp_path, tmp_path),
            timeout_s=20,
        )

        assert run.exit_code == 0, run.stderr
        (seen,) = run.json_lines()
        # No interface but lo, and no route at all: anything not on loopback fails at once.
        assert seen == {"devices": ["lo"], "routes": [], "text": "hello from the lab"}
        assert server.turns[0].model == "m"
        # And the server's socket is not in this namespace.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_a_program_that_outlives_its_timeout_is_killed_with_its_group(tmp_path: Path) -> None:
    with netns.NetNamespace() as ns:
        script = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
        run = run_in_netns(
            [sys.executable, "-c", script], ns, cwd=tmp_path, env=base_env(tmp_path, tmp_path),
            timeout_s=1,
        )  # fmt: skip

    assert run.timed_out and run.exit_code is None
    assert run.duration_s < 10  # the sleeping grandchild did not hold the pipes open
