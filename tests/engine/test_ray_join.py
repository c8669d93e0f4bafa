"""Joining a cluster through Ray Client: a failed session start on the head is tried again,
anything else is one clear error at once.

The real proxy's failures (the session server it forks dies in gRPC's fork handlers, or exits
before the proxy looks at it) are races on the head that cannot be caused on demand, so Ray is
a recorder here; the real cluster is joined through Ray Client in
tests/e2e/test_ray_executor.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from maestro_tui.engine.executors import ExecutorError, ray_join

START_FAILED = (
    "Initialization failure from server:\nTraceback (most recent call last):\n"
    "psutil.ZombieProcess: PID still exists but it's a zombie (pid=18521)"
)


class Ray:
    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls: list[str] = []

    def init(self, **kwargs: Any) -> None:
        self.calls.append(f"init {kwargs.get('address')}")
        if self.failures:
            raise self.failures.pop(0)

    def shutdown(self) -> None:
        self.calls.append("shutdown")


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_join, "CLIENT_RETRY_S", 0.0)


def test_a_session_the_head_failed_to_start_is_started_again() -> None:
    ray = Ray(ConnectionAbortedError(START_FAILED), ConnectionAbortedError(START_FAILED))
    ray_join.join(ray, "ray://head:10001")
    address = "init ray://head:10001"
    assert ray.calls == [address, "shutdown", address, "shutdown", address]


def test_it_gives_up_after_a_few_tries_and_says_why() -> None:
    ray = Ray(*(ConnectionAbortedError(START_FAILED) for _ in range(ray_join.CLIENT_TRIES)))
    with pytest.raises(ExecutorError, match="cannot join the Ray cluster at ray://head:10001") as e:
        ray_join.join(ray, "ray://head:10001")
    assert ray.calls.count("init ray://head:10001") == ray_join.CLIENT_TRIES
    assert "GRPC_ENABLE_FORK_SUPPORT=0" in str(e.value)  # what to change on the head


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("ray://head:10001", ConnectionError("ray client version mismatch")),
        ("head:6379", ConnectionAbortedError(START_FAILED)),  # not Ray Client: not its proxy
    ],
)
def test_other_failures_are_not_tried_again(address: str, error: BaseException) -> None:
    ray = Ray(error)
    with pytest.raises(ExecutorError, match=f"cannot join the Ray cluster at {address}") as e:
        ray_join.join(ray, address)
    assert ray.calls == [f"init {address}"]
    assert "GRPC_ENABLE_FORK_SUPPORT" not in str(e.value)  # the hint is for its one case
