"""Remotes: push a run's integration branch, and where a forge opens a pull request for it."""

from __future__ import annotations

import re
from urllib.parse import quote

from maestro_tui.workspace.repo import Workspace, WorkspaceError

# git@host:owner/repo(.git), ssh://git@host[:port]/owner/repo(.git), https://host/owner/repo(.git)
_REMOTE = re.compile(
    r"^(?:(?:ssh|https?|git)://(?:[^@/]+@)?(?P<host1>[^/:]+)(?::\d+)?/"
    r"|[^@/]+@(?P<host2>[^:/]+):)(?P<path>[^\s]+?)(?:\.git)?/?$"
)


def remote_url(ws: Workspace, remote: str) -> str:
    """The URL of `remote`; an unknown one names the remotes there are."""
    res = ws.git("remote", "get-url", "--", remote, ok=(0, 2, 128))
    if res.code:
        known = ws.git("remote").out.split() or ["none"]
        raise WorkspaceError(
            f"no remote '{remote}' in {ws.root} (remotes: {', '.join(known)}): "
            f"add it with `git remote add {remote} URL`"
        )
    return res.out.strip()


def push_branch(ws: Workspace, remote: str, branch: str, remote_branch: str) -> str:
    """Push local `branch` to `remote` as `remote_branch`; returns the commit pushed."""
    remote_url(ws, remote)  # a clear error before git's own
    (sha,) = ws.rev_parse(f"refs/heads/{branch}^{{commit}}")
    res = ws.git("push", "--porcelain", remote, f"{sha}:refs/heads/{remote_branch}", ok=(0, 1, 128))
    if res.code:
        raise WorkspaceError(
            f"pushing {branch} to {remote} failed: {res.err or res.out.strip()}: nothing was "
            "changed on the remote; check your access, or push it yourself with "
            f"`git push {remote} {branch}:{remote_branch}`"
        )
    return sha


def compare_url(url: str, base: str, head: str) -> str | None:
    """The page where the forge opens a pull (merge) request of `head` into `base`, or None
    for a remote that is not on a known forge (a path, a bare repository)."""
    m = _REMOTE.match(url.strip())
    if not m:
        return None
    host = m.group("host1") or m.group("host2")
    path = m.group("path").strip("/")
    if "gitlab" in host:
        return (
            f"https://{host}/{path}/-/merge_requests/new?"
            f"merge_request%5Bsource_branch%5D={quote(head, safe='')}"
            f"&merge_request%5Btarget_branch%5D={quote(base, safe='')}"
        )
    if "bitbucket" in host:
        return f"https://{host}/{path}/pull-requests/new?source={quote(head, safe='')}"
    # GitHub, and the forges that copy its URLs (Gitea, Forgejo, Codeberg)
    return (
        f"https://{host}/{path}/compare/{quote(base, safe='/')}...{quote(head, safe='/')}?expand=1"
    )
