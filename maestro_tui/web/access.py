"""Who may open a served maestro-tui: whoever has the URL's token, and only on loopback by
default. Pure functions, so the rules are tested without a server.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets

TOKEN_ENV = "MAESTRO_TUI_SERVE_TOKEN"  # a token kept off the command line (and out of `ps`)
MIN_TOKEN_CHARS = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")  # it is a URL path segment: nothing to escape


class ServeRefused(Exception):
    """The server must not start as asked; the message says what to do instead."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`: localhost, 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name: it may resolve to anything
        return False


def new_token() -> str:
    """A fresh random token: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def choose_token(host: str, given: str | None) -> str:
    """The token to require: `given`, or a random one, which only a loopback host may use.

    Another host means other machines can connect: the person must choose the token (and so
    know they are sharing it), rather than have one printed into a terminal log.
    """
    if given is not None:
        if len(given) < MIN_TOKEN_CHARS or not _TOKEN_CHARS.fullmatch(given):
            raise ServeRefused(
                f"the token must be at least {MIN_TOKEN_CHARS} characters of A-Z, a-z, 0-9,"
                " '-' and '_': make one with"
                " python3 -c 'import secrets; print(secrets.token_urlsafe())'"
            )
        return given
    if not is_loopback(host):
        raise ServeRefused(
            f"--host {host} lets other machines connect, so choose the token yourself:"
            f" set {TOKEN_ENV} (or pass --token) to a secret of at least {MIN_TOKEN_CHARS}"
            " characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())';"
            " or leave out --host to serve this machine only"
        )
    return new_token()


def token_matches(presented: str | None, token: str) -> bool:
    """Whether a request's token is the server's, in time that does not depend on where they
    differ (so it cannot be guessed a character at a time)."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), token.encode())
