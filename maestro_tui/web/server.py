"""textual-serve's Server with every route behind the URL token, and every app process ended.

textual-serve 1.1.3 builds an aiohttp app with four routes and no access control: `/` (the
page), `/ws` (the websocket: each connection starts one app process), `/download/{key}` and
`/static` (its JavaScript, CSS and fonts, with a directory index). This server builds its own
app instead, where the token is the first segment of every path:

    /TOKEN/            the page (textual-serve's template)
    /TOKEN/ws          the websocket that starts and drives one maestro-tui process
    /TOKEN/static/…    textual-serve's static files, no index

A middleware checks the token, in constant time, before any handler runs: a request without
it gets a bare 404 — no page, no file, no websocket upgrade, no process. Downloads are not
served (maestro-tui offers none). Nothing is logged per request, so the token appears only
in the URL printed at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from maestro_tui.web.access import token_matches
from maestro_tui.web.app_process import QUIT_S, AppProcess

log = logging.getLogger("maestro_tui.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_NOT_FOUND = "404: Not Found"
# The page must not pass its address (the token) on to the fonts it loads, nor be cached.
_PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Server": "",  # aiohttp would name itself and its version to anyone who asks
}


class GuardedServer(Server):
    """Serves `argv` (one process per browser connection) to holders of `token` only."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        token: str,
        env: Mapping[str, str],
        title: str,
        host: str = "127.0.0.1",
        port: int = 8000,
    ) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title=title)
        self.argv = list(argv)
        self.env = dict(env)
        self._token = token
        self.apps: set[AppProcess] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self._stopping = False

    # --- the app ----------------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        """Replaces textual-serve's open app, so no unguarded route can be built."""
        return self.make_app()

    def make_app(self) -> web.Application:
        """The aiohttp application: guarded routes, private headers, apps ended on shutdown."""
        app = web.Application(middlewares=[self._require_token])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/{token}/", self.handle_index),
                web.get("/{token}/ws", self.handle_websocket),
                web.get("/{token}/static/{path:.+}", self.handle_static),
            ]
        )
        app.on_response_prepare.append(self._add_private_headers)
        app.on_shutdown.append(self.on_shutdown)
        return app

    @web.middleware
    async def _require_token(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # match_info is resolved before middlewares run; an unknown path has no token in it.
        if not token_matches(request.match_info.get("token"), self._token):
            return web.Response(status=404, text=_NOT_FOUND)
        return await handler(request)

    @staticmethod
    async def _add_private_headers(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(_PRIVATE_HEADERS)

    # --- handlers ---------------------------------------------------------------------------

    def _base_url(self, request: web.Request) -> str:
        """Scheme, host and port as the browser reached us, then the token.

        Behind an HTTPS reverse proxy, X-Forwarded-Proto says so: the page must then open a
        wss:// websocket, since a browser blocks ws:// from an https:// page.
        """
        origin = request.url.origin()
        if request.headers.get("X-Forwarded-Proto", "").lower() == "https":
            origin = origin.with_scheme("https")
        return f"{origin}/{self._token}"

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """textual-serve's page, with its websocket and files under the token."""
        base = self._base_url(request)
        scheme, rest = base.split(":", 1)
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{'wss' if scheme == 'https' else 'ws'}:{rest}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }

    async def handle_static(self, request: web.Request) -> web.StreamResponse:
        """A file from textual-serve's static folder; nothing outside it, no listings."""
        target = await asyncio.to_thread(self._static_file, request.match_info["path"])
        if target is None:
            return web.Response(status=404, text=_NOT_FOUND)
        return web.FileResponse(target)

    def _static_file(self, name: str) -> Path | None:
        root = Path(self.statics_path).resolve()
        target = (root / name).resolve()
        return target if target.is_relative_to(root) and target.is_file() else None

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser connection: start its maestro-tui, relay until either side closes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app = AppProcess(
            self.argv,
            self.env,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self._sockets.add(websocket)
        try:
            await websocket.prepare(request)
            self.apps.add(app)
            await app.start(width, height)
            await self._process_messages(websocket, app)
        except Exception:
            log.exception("the browser connection failed")
        finally:
            self._sockets.discard(websocket)
            await app.close(quit_s=0 if self._stopping else QUIT_S)
            self.apps.discard(app)
        return websocket

    # --- ending -----------------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its banner and URL here; `serve` prints the URL once itself."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every browser connection; their handlers then end their apps."""
        self._stopping = True
        for websocket in list(self._sockets):
            await websocket.close(code=1001, message=b"server shutting down")

    async def end_apps(self) -> None:
        """End any app process still running (after the handlers had their chance)."""
        for app in list(self.apps):
            await app.close(quit_s=0)
            self.apps.discard(app)
