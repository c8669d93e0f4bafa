"""A real `maestro-tui serve` in its own process, and what a request without the token gets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from maestro_tui.web.access import new_token

WAIT_S = 60.0  # an upper bound for the server or an app to get somewhere, not a sleep
NOT_FOUND = "404: Not Found"


@dataclass
class Served:
    """The server process, the URL it printed, and everything it has printed so far."""

    proc: asyncio.subprocess.Process
    url: str  # http://127.0.0.1:PORT/TOKEN/
    output: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return self.url.rsplit("/", 2)[0]

    @property
    def token(self) -> str:
        return self.url.rsplit("/", 2)[1]

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "ws"

    def apps(self, recursive: bool = True) -> list[psutil.Process]:
        """The app processes the server has started (one per browser connection), and theirs."""
        children: list[psutil.Process] = psutil.Process(self.proc.pid).children(recursive=recursive)
        return children

    async def wait_for_app(self) -> psutil.Process:
        server = psutil.Process(self.proc.pid).cmdline()
        async with asyncio.timeout(WAIT_S):
            while True:
                # Between fork and exec a child still shows the server's command line, and
                # while exec replaces its memory, none at all.
                if (apps := self.apps(recursive=False)) and apps[0].cmdline() not in ([], server):
                    (app,) = apps
                    return app
                await asyncio.sleep(0.05)  # another process's child: nothing to await

    async def stop(self) -> int:
        """SIGTERM, as a service manager would; the server's exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), WAIT_S)


async def _drain(stream: asyncio.StreamReader, into: list[str]) -> None:
    async for line in stream:
        into.append(line.decode(errors="replace").rstrip("\n"))


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, *app_args: str, env: dict[str, str] | None = None
                  ) -> AsyncIterator[Served]:  # fmt: skip
    """`maestro-tui serve --port 0 --db tmp/runs.db -- APP_ARGS` until the block ends."""
    base = {k: v for k, v in os.environ.items() if k != "MAESTRO_TUI_DB"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "maestro_tui", "serve", "--port", "0",
        "--db", str(tmp_path / "runs.db"), "--", *app_args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, env={**base, **(env or {})}, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout is not None
    output: list[str] = []
    url = ""
    async with asyncio.timeout(WAIT_S):
        while not url:
            line = (await proc.stdout.readline()).decode()
            assert line, f"serve exited before printing its URL: {output}"
            output.append(line.rstrip("\n"))
            if line.startswith("open "):
                url = line.split()[1]
    drain = asyncio.create_task(_drain(proc.stdout, output))
    try:
        yield Served(proc, url, output)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(drain, 10)


async def assert_nothing_without_the_token(served: Served) -> None:
    """The page, a static file and the websocket, with no token or a wrong one: bare 404s."""
    wrong = new_token()
    near = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")  # one character off
    paths = [
        "/",
        "/ws",
        "/static/js/textual.js",  # where textual-serve itself puts its files
        "/static/",
        "/download/x",
        f"/{wrong}/",
        f"/{near}/",
        f"/{served.token[:-1]}/",
        f"/{served.token}x/",
        f"/{wrong}/static/js/textual.js",
        f"/{near}/static/css/xterm.css",
        f"/{wrong}/ws",
    ]
    async with aiohttp.ClientSession() as http:
        for path in paths:
            async with http.get(served.origin + path) as response:
                assert (response.status, await response.text()) == (404, NOT_FOUND), path
                assert "aiohttp" not in response.headers.get("Server", "")
        ws_origin = "ws" + served.origin.removeprefix("http")
        for path in ("/ws", f"/{wrong}/ws", f"/{near}/ws", f"/{served.token[:-1]}/ws"):
            try:
                async with http.ws_connect(ws_origin + path):
                    raise AssertionError(f"{path}: websocket opened without the token")
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 404, path
        # With the token the same file is there: the 404s above are the guard's.
        async with http.get(served.url + "static/js/textual.js") as response:
            assert response.status == 200
    assert served.apps() == []  # and no app process was started for any of them
