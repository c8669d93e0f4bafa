"""A network namespace with only loopback in it, shared by a model server and the programs.

A holder process (`unshare --net` + a few lines of Python that bring `lo` up and wait on stdin)
keeps the namespace alive and gives it a path. The server's listening socket is created by
this process while one thread has `setns`-ed into the namespace, so the socket belongs to it
while the server keeps running here and the test reads its log directly. Programs are started
with `nsenter --net=PATH`, so any connection to an address other than loopback fails at once.
Both steps need CAP_SYS_ADMIN (root, as on CI); elsewhere `unavailable_reason()` says why not.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

CLONE_NEWNET = 0x40000000

# Runs inside the new namespace: bring loopback up (SIOCGIFFLAGS/SIOCSIFFLAGS on "lo", so no
# dependency on iproute2), say so, then live until our end of stdin closes.
_HOLDER = """
import fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, struct.pack("16sh22x", b"lo", 0))[:18])[1]
fcntl.ioctl(s, 0x8914, struct.pack("16sh22x", b"lo", flags | 1))
s.close()
print("ready", flush=True)
sys.stdin.read()
"""


class NetnsUnavailable(RuntimeError):
    """This machine cannot give us a private network namespace; the message says why."""


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NetnsUnavailable(f"setns(CLONE_NEWNET) failed: {os.strerror(err)}")


class NetNamespace:
    """A loopback-only network namespace; `command(argv)` runs a program inside it."""

    def __init__(self) -> None:
        unshare, nsenter = shutil.which("unshare"), shutil.which("nsenter")
        if not unshare or not nsenter:
            raise NetnsUnavailable("unshare and nsenter (util-linux) are needed")
        self._nsenter = nsenter
        self._holder = subprocess.Popen(
            [unshare, "--net", "--", sys.executable, "-c", _HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._holder.stdout is not None
        if self._holder.stdout.readline().strip() != b"ready":
            self._holder.kill()
            _, err = self._holder.communicate(timeout=5)
            raise NetnsUnavailable(
                "unshare --net failed (it needs CAP_SYS_ADMIN): "
                + err.decode(errors="replace").strip()
            )

    @property
    def path(self) -> str:
        return f"/proc/{self._holder.pid}/ns/net"

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Inside the block this thread (only) is in the namespace: sockets made here stay there."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(self.path, os.O_RDONLY)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(target)
            os.close(own)

    def command(self, argv: list[str]) -> list[str]:
        """`argv` prefixed so that it runs inside the namespace."""
        return [self._nsenter, f"--net={self.path}", "--", *argv]

    def close(self) -> None:
        if self._holder.poll() is None:
            assert self._holder.stdin is not None
            self._holder.stdin.close()
            try:
                self._holder.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._holder.kill()
                self._holder.wait()
        for stream in (self._holder.stdout, self._holder.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> NetNamespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@functools.cache
def unavailable_reason() -> str | None:
    """None when a namespace and a socket inside it can be made here, else why not."""
    try:
        with NetNamespace() as ns, ns.entered():
            pass
    except (NetnsUnavailable, OSError) as exc:
        return f"no private network namespace here: {exc} (needs util-linux, root, CAP_SYS_ADMIN)"
    return None
