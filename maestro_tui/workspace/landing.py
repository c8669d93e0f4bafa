"""Landing a run's integration branch: into a local branch, or pushed to a remote, with the
page where a forge opens a pull request for it."""

from __future__ import annotations

import re
from urllib.parse import quote

from maestro_tui.workspace import plumbing
from maestro_tui.workspace.repo import Workspace, WorkspaceError

# git@host:owner/repo(.git), ssh://git@host[:port]/owner/repo(.git), https://host/owner/repo(.git)
_REMOTE = re.compile(
    r"^(?:(?:ssh|https?|git)://(?:[^@/]+@)?(?P<host1>[^/:]+)(?::\d+)?/"
    r"|[^@/]+@(?P<host2>[^:/]+):)(?P<path>[^\s]+?)(?:\.git)?/?$"
)


def land_into(ws: Workspace, target_branch: str, source_branch: str, message: str) -> str:
    """Bring `source_branch` into `target_branch` (for `land`); returns the new head.

    Fast-forwards when it can, else makes a merge commit. A conflict refuses with
    everything left untouched. If the target is checked out in a working tree, that tree
    must have no uncommitted changes to tracked files, and is moved with `merge --ff-only`.
    """
    old = ws.branch_head(target_branch)
    if old is None:
        raise WorkspaceError(f"branch {target_branch} does not exist: check the name")
    (src,) = ws.rev_parse(f"{source_branch}^{{commit}}")
    if ws.is_ancestor(src, old):
        return old  # already there
    holder = next((w for w in ws.all_worktrees() if w.branch == target_branch), None)
    if holder is not None:
        dirty = ws.dirty_paths(cwd=holder.path, untracked=False)
        if dirty:
            raise WorkspaceError(
                f"{holder.path} has uncommitted changes ({', '.join(sorted(dirty)[:10])}): "
                f"commit or stash them first, then land {source_branch} again"
            )
    new = src
    if not ws.is_ancestor(old, src):
        merged = plumbing.merge_tree(ws.git, old, src)
        if not merged.clean:
            raise WorkspaceError(
                f"{source_branch} conflicts with {target_branch} in "
                f"{', '.join(merged.conflicted)}: nothing was changed; merge by hand "
                f"(`git merge {source_branch}`) and resolve the conflicts"
            )
        new = plumbing.commit_tree(ws.git, merged.tree, (old, src), message)
    if holder is not None:
        ws.git("merge", "-q", "--ff-only", new, cwd=holder.path)
    elif not ws.update_branch(target_branch, new, old, f"maestro: land {source_branch}"):
        raise WorkspaceError(f"{target_branch} moved while landing: run land again")
    return new


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
