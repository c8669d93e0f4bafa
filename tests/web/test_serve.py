"""`maestro-tui serve`: who may connect, and the app processes it starts and ends.

A real server in its own process, spoken to over HTTP and websockets; the browser itself is
in test_browser.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil
import pytest

from maestro_tui.web.access import (
    TOKEN_ENV,
    ServeRefused,
    choose_token,
    is_loopback,
    new_token,
    token_matches,
)
from tests.web.conftest import WAIT_S, assert_nothing_without_the_token, serving


def maestro(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maestro_tui", *args],
        capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


# --- the rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
     ("my-laptop.local", False), ("", False)],
)  # fmt: skip
def test_loopback_means_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_token_is_random_unless_given_and_given_if_not_loopback() -> None:
    first, second = choose_token("127.0.0.1", None), choose_token("127.0.0.1", None)
    assert first != second and len(first) >= 43  # 256 bits
    with pytest.raises(ServeRefused, match=f"{TOKEN_ENV}.*--token"):
        choose_token("0.0.0.0", None)
    mine = new_token()
    assert choose_token("0.0.0.0", mine) == mine
    for bad in ("short", "has a space in it, long enough", "slash/in/it/is/no/good/at/all"):
        with pytest.raises(ServeRefused, match="at least 16 characters"):
            choose_token("127.0.0.1", bad)


def test_tokens_match_only_exactly() -> None:
    token = new_token()
    assert token_matches(token, token)
    for other in (None, "", token[:-1], token + "x", token.upper(), new_token()):
        assert not token_matches(other, token)


# --- the command --------------------------------------------------------------------------


def test_serve_refuses_another_host_without_a_chosen_token() -> None:
    result = maestro("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "--host 0.0.0.0 lets other machines connect" in result.stderr
    assert TOKEN_ENV in result.stderr and "open http" not in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--", "serve"], "cannot serve itself"), (["--", "no-such-command"], "invalid choice"),
     (["--port", "70000"], "--port must be from 0 to 65535"),
     (["--token", "short"], "at least 16 characters")],
)  # fmt: skip
def test_serve_refuses_bad_input_before_listening(args: list[str], says: str) -> None:
    result = maestro("serve", "--port", "0", *args)
    assert result.returncode == 2 and says in result.stderr


def test_help_loads_no_web_server() -> None:
    code = (
        "import sys\nfrom maestro_tui import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('MODS', *(m in sys.modules for m in ('textual_serve', 'aiohttp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "MODS False False" in out.stdout


@pytest.mark.slow
async def test_without_the_token_nothing_is_served(tmp_path: Path) -> None:
    async with serving(tmp_path) as served:  # the launcher
        await assert_nothing_without_the_token(served)
        async with aiohttp.ClientSession() as http, http.get(served.url) as page:
            html = await page.text()
            assert page.status == 200 and page.headers["Referrer-Policy"] == "no-referrer"
        # The page sends the browser to the websocket and files under the same token.
        assert f"{served.ws_url}" in html and f"{served.url}static/js/textual.js" in html
        async with aiohttp.ClientSession() as http:  # behind an HTTPS proxy: wss, not ws
            proxied = {"X-Forwarded-Proto": "https"}
            async with http.get(served.url, headers=proxied) as page:
                assert "wss" + served.ws_url.removeprefix("ws") in await page.text()
        assert await served.stop() == 0
    # The token is printed once, in the URL to open: no access log repeats it.
    assert sum(served.token in line for line in served.output) == 1, served.output


@pytest.mark.slow
async def test_each_connection_runs_its_own_app_which_ends_with_it(tmp_path: Path) -> None:
    token = new_token()
    async with serving(tmp_path, env={TOKEN_ENV: token}) as served:  # the launcher
        assert served.token == token  # the chosen token, from the environment
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(served.ws_url + "?width=100&height=30") as ws:
                app = await served.wait_for_app()
                first = await ws.receive(timeout=WAIT_S)
                assert first.type is aiohttp.WSMsgType.BINARY  # the app draws
                # This Python and this maestro-tui, the launcher on the same database.
                assert app.cmdline() == [sys.executable, "-m", "maestro_tui"]
                assert app.environ()["MAESTRO_TUI_DB"] == str((tmp_path / "runs.db").resolve())
                assert TOKEN_ENV not in app.environ()  # the secret stays with the server
            # The tab closed: its app quits.
            gone, alive = psutil.wait_procs([app], timeout=WAIT_S)
            assert alive == []
        assert served.apps() == []
        assert await served.stop() == 0


@pytest.mark.slow
async def test_stopping_the_server_ends_every_app(tmp_path: Path) -> None:
    async with serving(tmp_path) as served, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(served.ws_url) for _ in range(2)]
        for ws in sockets:
            assert (await ws.receive(timeout=WAIT_S)).type is aiohttp.WSMsgType.BINARY
        apps = served.apps()
        assert len(apps) == 2
        assert await served.stop() == 0
        gone, alive = psutil.wait_procs(apps, timeout=WAIT_S)
        assert alive == []
        for ws in sockets:
            await ws.close()
