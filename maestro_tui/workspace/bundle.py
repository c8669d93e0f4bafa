"""Git bundles: a commit and what it needs, as bytes that travel between machines.

The Ray executor ships the integration commit to a node as a bundle and brings the task's
work back as one; nothing assumes a filesystem shared by the head and the nodes. A bundle is
git's v2 format (`git bundle verify` reads it): a header naming the tip and the commits the
receiver must already have (prerequisites), then a pack from `git pack-objects`. The pack is
made apart from the header, so one pack of the integration commit serves every attempt that
starts from it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.workspace import plumbing
from maestro_tui.workspace._git import Git, WorkspaceError, git_env

SIGNATURE = b"# v2 git bundle\n"
# Fewer objects than this are unpacked loose, as `git fetch` does (fetch.unpackLimit).
UNPACK_LIMIT = 100
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


@dataclass(frozen=True)
class BundleHeader:
    tip: str
    ref: str
    prerequisites: tuple[str, ...]
    pack_offset: int


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")  # Git decodes its output this way


def make_pack(git: Git, tip: str, have: Sequence[str] = ()) -> bytes:
    """A pack of `tip` and everything it reaches that the commits in `have` do not."""
    revs = "".join(f"{r}\n" for r in (tip, *(f"^{h}" for h in have)))
    return _bytes(git("pack-objects", "--stdout", "--revs", "-q", stdin=revs).out)


def bundle_header(tip: str, ref: str, prerequisites: Sequence[str] = ()) -> bytes:
    """The header of a bundle whose pack holds `tip` (as `ref`) beyond `prerequisites`."""
    lines = [f"-{p}\n" for p in prerequisites] + [f"{tip} {ref}\n", "\n"]
    return SIGNATURE + "".join(lines).encode()


def make_bundle(git: Git, tip: str, ref: str, have: Sequence[str] = ()) -> bytes:
    return bundle_header(tip, ref, have) + make_pack(git, tip, have)


def read_header(data: bytes) -> BundleHeader:
    """Parse a bundle's header; WorkspaceError for anything that is not one tip and a pack."""
    if not data.startswith(SIGNATURE):
        raise WorkspaceError("not a git v2 bundle")
    end = data.find(b"\n\n", len(SIGNATURE) - 1)
    if end < 0:
        raise WorkspaceError("a git bundle without the end of its header")
    prerequisites: list[str] = []
    tips: list[tuple[str, str]] = []
    for line in data[len(SIGNATURE) : end].decode().splitlines():
        if line.startswith("-"):
            prerequisites.append(line[1:].split(" ", 1)[0])
        else:
            sha, _, ref = line.partition(" ")
            tips.append((sha, ref))
    if len(tips) != 1 or not _SHA.fullmatch(tips[0][0]):
        raise WorkspaceError(f"a bundle should name one tip, got {tips}")
    return BundleHeader(tips[0][0], tips[0][1], tuple(prerequisites), end + 2)


def unbundle(git: Git, data: bytes) -> str:
    """Add a bundle's objects to the repository (no ref moves); returns its tip.

    Its prerequisites must be in the repository already: the packs made here are not thin,
    so a missing one would leave a commit without its parent.
    """
    header = read_header(data)
    pack = data[header.pack_offset :]
    objects = struct.unpack(">I", pack[8:12])[0] if len(pack) >= 12 else 0
    if objects < UNPACK_LIMIT:
        git("unpack-objects", "-q", stdin=pack)
    else:
        git("index-pack", "--stdin", stdin=pack)
    return header.tip


def clone_bundle(data: bytes, dest: Path, branch: str) -> None:
    """Clone a bundle into `dest` (which must not exist), with `branch` checked out at its tip.

    No hooks are copied (an empty template): the run commits, and tests validate.
    """
    header = read_header(data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    file = dest.parent / f"{dest.name}.bundle"
    file.write_bytes(bundle_header(header.tip, f"refs/heads/{branch}") + data[header.pack_offset :])
    try:
        Git(dest.parent, git_env())(
            "clone", "-q", "--template=", "-b", branch, str(file), str(dest)
        )  # fmt: skip
    finally:
        file.unlink(missing_ok=True)


def fix_start(git: Git, onto: str, commit: str) -> tuple[str, tuple[str, ...]]:
    """A commit on `onto` whose tree is `commit` merged in, conflicts marked (what a fix round
    starts from), and the conflicted paths. It is a throwaway: only its tree is used."""
    merged = plumbing.merge_tree(git, onto, commit)
    start = plumbing.commit_tree(git, merged.tree, [onto], "maestro: the result to fix, merged")
    return start, merged.conflicted
