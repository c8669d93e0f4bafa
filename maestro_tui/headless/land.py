"""`land`: bring a run's integration branch into the user's branch, or push it as a pull request.

Only when the user asks. `--push REMOTE` pushes the integration branch; `--pr` then opens a
pull request through `gh` when it is installed, or prints the forge's page to open one;
`--body-only` prints the pull request's body, for any forge, and touches nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.domain.summary import pull_request_body, pull_request_title
from maestro_tui.headless.printer import Output
from maestro_tui.session.lifecycle import UserError, open_session
from maestro_tui.session.outcome import EXIT_OK
from maestro_tui.workspace.landing import compare_url, land_into, push_branch, remote_url
from maestro_tui.workspace.repo import Workspace


@dataclass(frozen=True)
class LandRequest:
    into: str | None = None  # the branch to merge into (default: the run's base)
    push: str | None = None  # a remote to push the integration branch to, instead
    branch: str | None = None  # its name there (default: the integration branch's)
    pr: bool = False  # open a pull request after pushing
    body_only: bool = False  # print the pull request's body, nothing else


def gh_argv(base: str, head: str, title: str) -> list[str]:
    """The `gh` call that opens the pull request (its body comes on stdin)."""
    return ["gh", "pr", "create", "--base", base, "--head", head, "--title", title,
            "--body-file", "-"]  # fmt: skip


async def land(db_path: Path, run_ref: str, request: LandRequest, out: Output) -> int:
    if request.pr and not request.push:
        raise UserError("--pr needs --push REMOTE: the pull request is of a pushed branch")
    async with await open_session(db_path, run_ref) as session:
        s = session.state
        target = request.into or s.base_branch
        if request.body_only or request.push:
            await session.store.flush()
            body = pull_request_body(await session.store.load_events(s.run_id))
            if request.body_only:
                out.stream.write(body)
                return EXIT_OK
        if target in ("", "HEAD"):
            raise UserError("the run started on a detached HEAD: pass --into BRANCH")
        ws = session.orch.ws
        if request.push:
            title = pull_request_title(s)
            return _push(ws, request, s.integration_branch, target, title, body, out)
        head = land_into(ws, target, s.integration_branch, f"Land maestro run {s.run_id}: {s.goal}")
        print(f"landed {s.integration_branch} into {target} → {head[:9]}", file=out.stream)
    return EXIT_OK


def _push(
    ws: Workspace,
    request: LandRequest,
    branch: str,
    base: str,
    title: str,
    body: str,
    out: Output,
) -> int:
    assert request.push is not None
    remote = request.push
    remote_branch = request.branch or branch
    sha = push_branch(ws, remote, branch, remote_branch)
    print(f"pushed {branch} to {remote} as {remote_branch} ({sha[:9]})", file=out.stream)
    if not request.pr:
        return EXIT_OK
    gh = shutil.which("gh")
    if gh is not None:
        argv = gh_argv(base, remote_branch, title)
        done = subprocess.run(
            [gh, *argv[1:]], input=body, text=True, cwd=ws.root, capture_output=True
        )
        if done.returncode == 0:
            print(f"pull request: {done.stdout.strip()}", file=out.stream)
            return EXIT_OK
        problem = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        print(f"gh could not open the pull request: {problem[0]}", file=out.stream)
    page = compare_url(remote_url(ws, remote), base, remote_branch)
    if page:
        print(f"open the pull request here: {page}", file=out.stream)
    else:
        print(
            f"open a pull request of {remote_branch} into {base} on your forge; its body:"
            " maestro-tui land RUN --body-only",
            file=out.stream,
        )
    return EXIT_OK
