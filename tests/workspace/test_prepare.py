"""Preparing trees ([worktree]): copies that are not links, a port each, setup commands and
their failures, venv paths, and editable installs of src and flat layouts redirected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_tui.workspace.prepare import PORT_ENV, PortPool, Prepared, Preparer, SetupFailed
from maestro_tui.workspace.pyenv import find_python_env


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "config").mkdir(parents=True)
    (root / ".env").write_text("TOKEN=abc\n")
    (root / ".env.local").write_text("LOCAL=1\n")
    (root / "config" / "dev.json").write_text("{}\n")
    (root / "tracked.txt").write_text("the user's uncommitted version\n")
    return root


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    path = tmp_path / "tree"
    path.mkdir()
    (path / "tracked.txt").write_text("as committed\n")
    return path


async def test_copies_are_real_files_never_links_and_tracked_files_stay(
    checkout: Path, tree: Path
) -> None:
    lines: list[str] = []
    preparer = Preparer(checkout, copy=(".env*", "config", "tracked.txt", "missing.cfg"))
    prepared = await preparer.prepare(tree, dict(os.environ), on_line=lambda t, s: lines.append(t))
    try:
        assert set(prepared.copied) == {".env", ".env.local", "config"}
        for rel in (".env", ".env.local", "config", "config/dev.json"):
            assert not (tree / rel).is_symlink()
        (tree / ".env").write_text("CHANGED=1\n")  # an agent writing it
        assert (checkout / ".env").read_text() == "TOKEN=abc\n"
        assert (tree / "tracked.txt").read_text() == "as committed\n"
        assert any("nothing matches 'missing.cfg'" in line for line in lines)
    finally:
        preparer.release(tree)


async def test_a_symlinked_env_is_copied_as_its_content(checkout: Path, tree: Path) -> None:
    (checkout / "secrets.env").write_text("S=1\n")
    (checkout / ".env").unlink()
    (checkout / ".env").symlink_to(checkout / "secrets.env")
    preparer = Preparer(checkout, copy=(".env",))
    await preparer.prepare(tree, dict(os.environ))
    preparer.release(tree)
    assert not (tree / ".env").is_symlink() and (tree / ".env").read_text() == "S=1\n"


async def test_each_tree_gets_its_own_free_port_for_setup_and_tests(
    checkout: Path, tmp_path: Path
) -> None:
    pool = PortPool(45000, 45010)
    trees = [tmp_path / f"t{i}" for i in range(3)]
    for t in trees:
        t.mkdir()
    record = f"import os,sys; open(sys.argv[1], 'w').write(os.environ['{PORT_ENV}'])"
    preparer = Preparer(
        checkout, setup=(f'{sys.executable} -c "{record}" port-{{port}}.txt',), ports=pool
    )
    prepared = [await preparer.prepare(t, dict(os.environ)) for t in trees]
    ports = [p.port for p in prepared]
    assert len(set(ports)) == 3 and all(45000 <= p <= 45010 for p in ports)
    for p in prepared:
        assert (p.tree / f"port-{p.port}.txt").read_text() == str(p.port)
        assert p.env[PORT_ENV] == str(p.port)
    preparer.release(trees[0])
    again = await preparer.prepare(trees[0], dict(os.environ))
    assert again.port not in ports[1:]


def _busy_port_with_a_free_next() -> tuple[socket.socket, int]:
    """A bound socket whose next port is free now (another process may hold any port: the
    suite's own engines, Ray, browsers)."""
    for _ in range(50):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                busy.close()
                continue
        return busy, port
    raise AssertionError("no port with a free neighbour in 50 tries")


def test_a_port_in_use_elsewhere_is_skipped() -> None:
    busy, port = _busy_port_with_a_free_next()
    with busy:
        pool = PortPool(port, port + 1)
        assert pool.take(Path("/x")) == port + 1


async def test_a_failing_setup_names_the_command_and_its_last_lines(
    checkout: Path, tree: Path
) -> None:
    fail = (
        f"{sys.executable} -c \"print('resolving deps'); raise SystemExit('lockfile out of date')\""
    )
    preparer = Preparer(checkout, setup=(fail,))
    with pytest.raises(SetupFailed) as caught:
        await preparer.prepare(tree, dict(os.environ))
    message = str(caught.value)
    assert "exited with code 1" in message and "lockfile out of date" in message
    assert sys.executable in message
    assert tree not in preparer.ports._held  # its port went back


async def test_a_missing_setup_program_says_what_to_fix(checkout: Path, tree: Path) -> None:
    preparer = Preparer(checkout, setup=("no-such-installer --frozen",))
    with pytest.raises(SetupFailed, match=r"'no-such-installer' is not installed.*\[worktree\]"):
        await preparer.prepare(tree, dict(os.environ))


async def test_a_slow_setup_is_stopped_at_its_timeout(checkout: Path, tree: Path) -> None:
    sleep = f'{sys.executable} -c "import time; time.sleep(30)"'
    preparer = Preparer(checkout, setup=(sleep,), setup_timeout_s=0.5)
    with pytest.raises(SetupFailed, match="setup_timeout_s"):
        await preparer.prepare(tree, dict(os.environ))


def test_a_relative_venv_program_comes_from_the_checkout_unless_the_tree_has_one(
    checkout: Path, tree: Path
) -> None:
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "pytest").write_text("")
    preparer = Preparer(checkout)
    prepared = Prepared(tree, {}, 45555)
    argv = preparer.argv(".venv/bin/pytest -q --port={port}", prepared)
    assert argv == [str(checkout / ".venv/bin/pytest"), "-q", "--port=45555"]
    (tree / ".venv" / "bin").mkdir(parents=True)
    (tree / ".venv" / "bin" / "pytest").write_text("")  # `uv sync` made the tree its own
    assert preparer.argv(".venv/bin/pytest", prepared) == [str(tree / ".venv/bin/pytest")]
    assert preparer.argv("pytest -q", prepared) == ["pytest", "-q"]


def make_venv(where: Path) -> Path:
    venv = where / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


def test_a_pth_install_of_a_src_layout_maps_to_the_trees_src(tmp_path: Path) -> None:
    checkout = tmp_path / "proj"
    (checkout / "src" / "pkg").mkdir(parents=True)
    (checkout / "src" / "pkg" / "__init__.py").write_text("")
    (checkout / "src" / "single.py").write_text("")
    venv = make_venv(checkout)
    (site_packages(venv) / "__editable__.proj-0.1.pth").write_text(f"{checkout / 'src'}\n")
    (site_packages(venv) / "distutils-precedence.pth").write_text("import os; x = 1\n")
    found = find_python_env(checkout, {})
    assert found is not None
    assert found.roots == (checkout.resolve() / "src",)
    assert found.packages == ("pkg", "single")
    tree = tmp_path / "tree"
    env = found.env_for(tree, {"PATH": "/usr/bin", "PYTHONPATH": "/extra"})
    assert env["PYTHONPATH"] == f"{tree / 'src'}{os.pathsep}/extra"
    assert env["PATH"].split(os.pathsep)[0] == str(venv.resolve() / "bin")
    assert env["VIRTUAL_ENV"] == str(venv.resolve())


def test_setuptools_finders_of_a_flat_layout_with_two_packages(tmp_path: Path) -> None:
    checkout = tmp_path / "proj"
    for name in ("alpha", "beta"):
        (checkout / name).mkdir(parents=True)
        (checkout / name / "__init__.py").write_text("")
    venv = make_venv(tmp_path / "elsewhere")  # named by VIRTUAL_ENV, not in the checkout
    finder = site_packages(venv) / "__editable___proj_0_1_finder.py"
    finder.write_text(
        "import sys\n"
        f"MAPPING = {{'alpha': {str(checkout / 'alpha')!r}, 'beta': {str(checkout / 'beta')!r},"
        " 'other': '/somewhere/else/other'}\n"
        "NAMESPACES = {}\n"
    )
    found = find_python_env(checkout, {"VIRTUAL_ENV": str(venv)})
    assert found is not None
    assert found.roots == (checkout.resolve(),)
    assert set(found.packages) == {"alpha", "beta"}
    assert found.env_for(tmp_path / "t", {})["PYTHONPATH"] == str(tmp_path / "t")


def test_no_venv_or_no_editable_install_means_nothing_to_redirect(tmp_path: Path) -> None:
    checkout = tmp_path / "proj"
    checkout.mkdir()
    assert find_python_env(checkout, {}) is None
    make_venv(checkout)
    assert find_python_env(checkout, {}) is None
