"""Joining a Ray cluster: Ray imported (only now), the address knocked at, `ray.init`.

Each failure is an ExecutorError that says what to do. A Ray Client session the head failed
to start is started again.
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Any

from maestro_tui.engine.executors.base import ExecutorError

INSTALL_HINT = "pip install 'maestro-tui[ray]'"
KNOCK_TIMEOUT_S = 5.0  # ray.init waits minutes for a cluster that is not there: knock first


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError(
            f'[executor] kind = "ray" needs Ray installed here: {INSTALL_HINT}'
        ) from exc
    return ray


def knock(address: str, timeout_s: float = KNOCK_TIMEOUT_S) -> None:
    """ExecutorError unless something listens at a "HOST:PORT" or "ray://HOST:PORT" address
    ("auto": the one in $RAY_ADDRESS, if any)."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
    found = re.fullmatch(r"(?:ray://)?([^\s/:]+):(\d{1,5})", address)
    if found is None:
        return  # Ray finds the cluster itself ("auto", from its files) or starts one ("local")
    try:
        with socket.create_connection((found[1], int(found[2])), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ExecutorError(
            f"cannot reach the Ray cluster at {address} ({exc}): start it (`ray start --head`,"
            " `ray up`) or fix [executor] address"
        ) from exc


# Ray Client's proxy forks a server per client session, and that child sometimes dies at
# once ("Initialization failure from server"): it crashes in gRPC's fork handlers, or exits
# before the proxy looks at it. The next session's start is a fresh one.
CLIENT_TRIES = 3
CLIENT_RETRY_S = 1.0
_CLIENT_START_FAILED = "Initialization failure from server"
CLIENT_START_HINT = (
    "The head could not start a Ray Client session: if its ray_client_server_*.err is empty,"
    " start the head with GRPC_ENABLE_FORK_SUPPORT=0 in its environment."
)


def join(ray: Any, address: str) -> None:
    kwargs: dict[str, Any] = {"logging_level": "WARNING", "log_to_driver": False}
    if address != "local":
        kwargs["address"] = address
    for tries_left in reversed(range(CLIENT_TRIES)):
        try:
            ray.init(**kwargs)
            return
        except (Exception, SystemExit) as exc:  # ray.init exits the process on some failures
            if tries_left and _session_not_started(address, exc):
                ray.shutdown()
                time.sleep(CLIENT_RETRY_S)
                continue
            raise not_joined(address, exc) from exc


def _session_not_started(address: str, exc: BaseException) -> bool:
    """The head's Ray Client proxy failed to start this client's session."""
    return address.startswith("ray://") and _CLIENT_START_FAILED in str(exc)


def not_joined(address: str, exc: BaseException) -> ExecutorError:
    hint = f"\n{CLIENT_START_HINT}" if _session_not_started(address, exc) else ""
    return ExecutorError(
        f"cannot join the Ray cluster at {address}: {exc}".strip()[:1500]
        + hint
        + "\n(is it running, with the same Ray version? Start one with `ray start --head`,"
        f' or set [executor] address = "local" for Ray on this machine only. {INSTALL_HINT})'
    )
