"""`maestro-tui serve`: listen, print the URL with its token once, serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from maestro_tui.session.outcome import EXIT_BAD_INPUT, EXIT_OK
from maestro_tui.web.access import TOKEN_ENV, ServeRefused, choose_token, is_loopback

if TYPE_CHECKING:
    from maestro_tui.web.server import GuardedServer

SHUTDOWN_S = 15.0  # for open connections to close once the server is asked to stop


def _fail(message: str) -> int:
    print(f"maestro-tui serve: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _url_host(host: str) -> str:
    """How a browser should name this server: a wildcard address means this machine's name."""
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


async def serve(
    app_args: list[str],
    host: str,
    port: int,
    token: str | None,
    db: Path | None,
    parser: argparse.ArgumentParser,
) -> int:
    """Serve `maestro-tui APP_ARGS` (the launcher if none) to browsers that have the token.

    `parser` is the CLI's: the served command is checked before anything listens.
    """
    args = app_args[1:] if app_args[:1] == ["--"] else list(app_args)
    refused = _refusal(args, port, parser)
    if refused:
        return _fail(refused)
    # Read once and dropped, so the app processes (and any agent they start) never see it.
    from_env = os.environ.pop(TOKEN_ENV, None)
    try:
        secret = choose_token(host, token if token is not None else from_env)
    except ServeRefused as exc:
        return _fail(str(exc))
    try:
        from maestro_tui.web.app_process import app_argv
        from maestro_tui.web.server import GuardedServer
    except ImportError as exc:
        return _fail(f"serve needs textual-serve ({exc}): pip install 'maestro-tui[serve]'")
    server = GuardedServer(
        app_argv(args),
        token=secret,
        env=_app_env(db),
        title=" ".join(["maestro-tui", *args]),
        host=host,
        port=port,
    )
    return await _listen(server, args, host, port, secret)


def _refusal(args: list[str], port: int, parser: argparse.ArgumentParser) -> str | None:
    """Why the command line cannot be served, if it cannot (an argparse error exits)."""
    if args[:1] == ["serve"]:
        return "serve cannot serve itself: give another command after --, or none"
    if args:
        parser.parse_args(args)  # a typo is an error here, not a blank browser tab later
    if not 0 <= port <= 65535:
        return f"--port must be from 0 to 65535, got {port}"
    return None


async def _listen(server: GuardedServer, args: list[str], host: str, port: int, secret: str) -> int:
    """Listen, say where, and serve until stopped; then end every app the server started."""
    from aiohttp import web

    runner = web.AppRunner(
        server.make_app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_S
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            return _fail(f"cannot listen on {host} port {port}: {exc.strerror or exc}")
        bound = runner.addresses[0][1]
        what = f"maestro-tui {' '.join(args)}" if args else "the maestro-tui launcher"
        where = "this machine only" if is_loopback(host) else f"any machine that reaches {host}"
        print(f"serving {what} to {where}; each browser tab runs its own", flush=True)
        print(f"open http://{_url_host(host)}:{bound}/{secret}/", flush=True)
        print("Ctrl-C stops the server and every app it started", flush=True)
        await _until_stopped()
    finally:
        await runner.cleanup()  # closes the websockets: their handlers end their apps
        await server.end_apps()
    return EXIT_OK


def _app_env(db: Path | None) -> dict[str, str]:
    """What the app processes get besides textual-serve's variables: the same database."""
    return {"MAESTRO_TUI_DB": str(db.expanduser().resolve())} if db is not None else {}


async def _until_stopped() -> None:
    """Return on SIGINT or SIGTERM (the apps then end cleanly, not by a KeyboardInterrupt)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
