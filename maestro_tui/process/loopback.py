"""The outside half of loopback ports in a sandbox without network (see forwarder.py).

For each port, a unix socket in a private folder; each connection to it is joined to this
machine's 127.0.0.1:PORT. The folder is shown read-only in the sandbox, where the forwarder
serves 127.0.0.1:PORT and passes connections here. Nothing else of the network goes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

FORWARDER = Path(__file__).with_name("forwarder.py")
CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (OSError, RuntimeError):
        pass


async def _join(port: int, inside_r: asyncio.StreamReader, inside_w: asyncio.StreamWriter) -> None:
    try:
        host_r, host_w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        inside_w.close()
        return
    try:
        await asyncio.gather(_pipe(inside_r, host_w), _pipe(host_r, inside_w))
    finally:
        for w in (host_w, inside_w):
            w.close()


@contextlib.asynccontextmanager
async def loopback_relay(ports: Sequence[int]) -> AsyncIterator[Path]:
    """Serve a unix socket per port in a new folder (yielded) until the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="maestro-loopback-"))
    servers = []
    try:
        for port in ports:

            async def joined(
                r: asyncio.StreamReader, w: asyncio.StreamWriter, p: int = port
            ) -> None:
                await _join(p, r, w)

            servers.append(await asyncio.start_unix_server(joined, path=str(folder / str(port))))
        yield folder
    finally:
        for server in servers:
            server.close()
        shutil.rmtree(folder, ignore_errors=True)


def forwarded(argv: Sequence[str], folder: Path, ports: Sequence[int]) -> list[str]:
    """`argv` run by the forwarder, which serves `ports` on the sandbox's own loopback."""
    listed = ",".join(str(p) for p in ports)
    return [sys.executable, "-I", "-S", str(FORWARDER), str(folder), listed, "--", *argv]
