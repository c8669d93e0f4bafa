"""A small Chrome DevTools Protocol client: real headless Chromium, driven over its websocket.

Just what the browser tests need: open a page, evaluate JavaScript, type keys, take a
screenshot. Commands and replies travel on the browser's websocket; each page is a target
attached with `flatten`, so its commands carry a session id on the same socket.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

# Without the background-networking flags Chromium keeps reaching for Google's services,
# which this closed network refuses (and a test must not depend on).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
)


def chromium_path() -> str | None:
    """The Chromium to drive: Debian's `chromium`, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class CDPError(Exception):
    """Chromium answered a command with an error, or went away."""


class Browser:
    """One headless Chromium process and the websocket that drives it."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        ws: aiohttp.ClientWebSocketResponse,
        http: aiohttp.ClientSession,
    ) -> None:
        self.proc = proc
        self._ws = ws
        self._http = http
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[tuple[str, str | None, asyncio.Queue[dict[str, Any]]]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if "id" in data:
                reply = self._replies.pop(data["id"], None)
                if reply is not None and not reply.done():
                    reply.set_result(data)
                continue
            for method, session, queue in self._listeners:
                if data.get("method") == method and session == data.get("sessionId"):
                    queue.put_nowait(data.get("params", {}))
        for reply in self._replies.values():
            if not reply.done():
                reply.set_exception(CDPError("the browser closed its DevTools connection"))

    async def send(self, method: str, session: str | None = None, **params: Any) -> Any:
        """Send one command and return its result."""
        msg_id = next(self._ids)
        reply = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = reply
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self._ws.send_str(json.dumps(message))
        data = await asyncio.wait_for(reply, 300)  # a safety net: callers set their own limits
        if "error" in data:
            raise CDPError(f"{method}: {data['error'].get('message')}")
        return data.get("result", {})

    def listen(self, method: str, session: str | None = None) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives the params of every later `method` event (of `session`)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.append((method, session, queue))
        return queue

    async def new_page(self, width: int = 1400, height: int = 900) -> Page:
        """A fresh tab of `width`×`height` CSS pixels, attached and ready for commands."""
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"],
                                   flatten=True)  # fmt: skip
        page = Page(self, attached["sessionId"], target["targetId"])
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
        return page

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.send("Browser.close"), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        await self._ws.close()
        await self._http.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


class Page:
    """One tab, addressed through its flattened session."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser = browser
        self.session = session
        self.target = target

    async def send(self, method: str, **params: Any) -> Any:
        return await self.browser.send(method, self.session, **params)

    def listen(self, method: str) -> asyncio.Queue[dict[str, Any]]:
        return self.browser.listen(method, self.session)

    async def navigate(self, url: str) -> None:
        """Load `url` and wait for its load event."""
        loaded = self.listen("Page.loadEventFired")
        result = await self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise CDPError(f"cannot load {url}: {result['errorText']}")
        await asyncio.wait_for(loaded.get(), 30)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = await self.send("Runtime.evaluate", expression=expression,
                                 returnByValue=True, awaitPromise=True)  # fmt: skip
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CDPError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    async def type_text(self, text: str) -> None:
        """Type characters as key presses, as a person would."""
        for char in text:
            for kind in ("keyDown", "keyUp"):
                await self.send("Input.dispatchKeyEvent", type=kind, key=char,
                                text=char if kind == "keyDown" else "")  # fmt: skip

    async def screenshot(self, path: Path) -> bytes:
        """Save a PNG of the viewport to `path`; return its bytes."""
        result = await self.send("Page.captureScreenshot", format="png")
        data = base64.b64decode(result["data"])
        await asyncio.to_thread(path.write_bytes, data)
        return data


async def _devtools_url(profile: Path, proc: asyncio.subprocess.Process, wait_s: float) -> str:
    """Chromium writes its port and browser path to DevToolsActivePort once it listens."""
    port_file = profile / "DevToolsActivePort"
    async with asyncio.timeout(wait_s):
        while True:
            text = await asyncio.to_thread(_read_if_there, port_file)
            if len(lines := text.split()) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            if proc.returncode is not None:
                raise CDPError(f"chromium exited with {proc.returncode} before listening")
            await asyncio.sleep(0.05)  # a file to appear: there is nothing to await


def _read_if_there(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


@contextlib.asynccontextmanager
async def launch(profile: Path, log: Path, wait_s: float = 60) -> AsyncIterator[Browser]:
    """A headless Chromium with its own fresh profile in `profile`, its output in `log`."""
    executable = chromium_path()
    if executable is None:
        raise CDPError("chromium is not installed (apt-get install chromium)")
    out = await asyncio.to_thread(log.open, "wb")
    with out:
        proc = await asyncio.create_subprocess_exec(
            executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
            "--remote-debugging-port=0", "about:blank",
            stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        url = await _devtools_url(profile, proc, wait_s)
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, max_msg_size=0)
        except BaseException:
            await http.close()
            raise
        browser = Browser(proc, ws, http)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    try:
        yield browser
    finally:
        await browser.close()
