"""The planner's first map: files ranked by the goal (names, paths, text, imports), in a token
budget; on a real project (jinja2 and click, as installed) and on small made-up ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maestro_tui.workspace import search
from maestro_tui.workspace.goal_words import goal_words
from maestro_tui.workspace.imports import ModuleIndex, imports_of
from maestro_tui.workspace.ranked_map import rank_files, ranked_map
from tests.workspace.conftest import IDENTITY, git

jinja2 = pytest.importorskip("jinja2")
click = pytest.importorskip("click")


def commit_all(root: Path) -> Path:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, *IDENTITY, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """jinja2 and click side by side: 60-odd modules that import each other."""
    root = tmp_path_factory.mktemp("project")
    for package in (jinja2, click):
        source = Path(package.__file__).parent
        shutil.copytree(source, root / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text("# Templates and command lines\n")
    return commit_all(root)


def ranked(root: Path, goal: str) -> list[str]:
    return [f.path for f in rank_files(root, goal).ranked]


@pytest.mark.parametrize(
    ("goal", "first"),
    [
        ("Add a filter that truncates a string to a number of words", "jinja2/filters.py"),
        ("Make the sandbox refuse unsafe attribute access in format strings", "jinja2/sandbox.py"),
        ("Let the Lexer report the column of an unexpected token", "jinja2/lexer.py"),
        ("add type hints to loaders.py", "jinja2/loaders.py"),
        ("zsh shell completion should list hidden options", "click/shell_completion.py"),
        ("BytecodeCache: expire entries older than a day", "jinja2/bccache.py"),
    ],
)
def test_the_goals_file_comes_first_in_a_real_project(project: Path, goal: str, first: str) -> None:
    assert ranked(project, goal)[0] == first


def test_what_imports_the_goals_file_comes_next(project: Path) -> None:
    order = ranked(project, "Let the Lexer report the column of an unexpected token")
    assert "jinja2/parser.py" in order[1:4]  # it imports the lexer, and names tokens
    best = rank_files(project, "Let the Lexer report the column of an unexpected token").ranked
    parser = next(f for f in best if f.path == "jinja2/parser.py")
    assert "imports jinja2/lexer.py" in parser.reasons


def test_the_map_lists_the_best_first_with_why_and_stays_in_budget(project: Path) -> None:
    text = ranked_map(project, "Add a filter that truncates a string", max_tokens=1_000)
    lines = text.splitlines()
    assert len(text) <= 1_000 * 4
    count = len(git(project, "ls-files").splitlines())
    assert lines[0].startswith(f"{count} files. The most relevant to the goal first")
    assert lines[1].startswith("jinja2/filters.py (")
    assert "def do_truncate" not in lines[1]  # top-level names, bounded: the first few
    assert "[name: filter; mentions truncate" in lines[1]
    assert "Other files, by folder:" in lines
    assert lines[-1].endswith("files)") or lines[-1].startswith("… and ")


def test_a_small_repository_is_listed_whole(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "cart.py").write_text("from shop.pricing import total\n\n\nclass Cart: ...\n")
    (root / "shop" / "pricing.py").write_text("def total(lines):\n    return 0\n")
    (root / "notes.txt").write_text("nothing\n")
    commit_all(root)
    assert ranked_map(root, "Carts get a bulk discount").splitlines() == [
        "3 files. The most relevant to the goal first (a name, path or text that matches it, "
        "or an import), with why; then the others.",
        "shop/cart.py (49 B): class Cart [name: carts; mentions carts]",
        "shop/pricing.py (31 B): def total [imported by shop/cart.py]",
        "Other files:",
        "notes.txt (8 B)",
    ]


def test_scripts_import_each_other(tmp_path: Path) -> None:
    root = tmp_path / "web"
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "cart.ts").write_text(
        "import { price } from './lib/pricing';\nconst x = require(\"../vendor\");\n"
        "export class Cart {}\nexport function total(): number { return 0 }\n"
    )
    (root / "src" / "lib" / "pricing.ts").write_text("export const price = 1;\n")
    (root / "src" / "lib" / "index.js").write_text("export * from './pricing.js';\n")
    (root / "src" / "app.tsx").write_text("import { Cart } from './cart';\n")
    commit_all(root)
    best = {f.path: f.reasons for f in rank_files(root, "pricing rules").ranked}
    assert list(best)[0] == "src/lib/pricing.ts"
    assert "imports src/lib/pricing.ts" in best["src/cart.ts"]
    assert "imports src/lib/pricing.ts" in best["src/lib/index.js"]
    assert "src/app.tsx" not in best  # it imports the cart, which is not about pricing
    text = ranked_map(root, "pricing rules")
    assert (
        "src/cart.ts (137 B): class Cart, function total "
        "[mentions pricing; imports src/lib/pricing.ts]"
    ) in text.splitlines()


def test_python_imports_resolve_relative_absolute_and_under_src(tmp_path: Path) -> None:
    files = {
        "src/shop/__init__.py",
        "src/shop/cart.py",
        "src/shop/pricing.py",
        "src/shop/util/__init__.py",
        "tests/test_cart.py",
    }
    index = ModuleIndex(files)
    cart = b"from . import pricing\nfrom .util import helper\nimport os\nfrom shop import cart\n"
    assert imports_of("src/shop/cart.py", cart, index) == [
        "src/shop/pricing.py",  # a module of the package, not a name of its __init__
        "src/shop/util/__init__.py",
    ]
    test = b"from shop.cart import Cart\n"
    assert imports_of("tests/test_cart.py", test, index) == ["src/shop/cart.py"]
    broken = b"from shop.pricing import (\n    total,\nimport shop.util\n"
    assert imports_of("tests/test_cart.py", broken, index) == [
        "src/shop/pricing.py",
        "src/shop/util/__init__.py",
    ]


def test_untracked_files_count_and_deleted_ones_are_not_shown(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "old_discounts.py").write_text("RATE = 1\n")
    (root / "main.py").write_text("print(1)\n")
    commit_all(root)
    (root / "old_discounts.py").unlink()
    (root / "discounts.py").write_text("def bulk_discount():\n    pass\n")  # not added yet
    (root / "debug.log").write_text("discount " * 10)
    (root / ".gitignore").write_text("*.log\n")
    best = rank_files(root, "bulk discounts").ranked
    assert best[0].path == "discounts.py"
    text = ranked_map(root, "bulk discounts")
    assert "old_discounts.py" not in text and "debug.log" not in text


def test_excluded_files_are_left_out(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "vendor").mkdir(parents=True)
    (root / "vendor" / "cart.py").write_text("")
    (root / "cart.py").write_text("")
    commit_all(root)
    assert ranked(root, "cart") == ["cart.py", "vendor/cart.py"]
    assert [f.path for f in rank_files(root, "cart", exclude=["vendor/"]).ranked] == ["cart.py"]


def test_a_plain_folder_is_ranked_too(tmp_path: Path) -> None:
    (tmp_path / "inventory.py").write_text("class Stock: ...\n")
    (tmp_path / "report.py").write_text("from inventory import Stock\n")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "inventory.js").write_text("")
    assert set(ranked(tmp_path, "low stock inventory report")) == {"inventory.py", "report.py"}


def test_the_goals_words() -> None:
    words = goal_words("Add type hints to keys.py and make apply_discount reject low-stock carts")
    terms = [t.text for t in words.terms]
    assert "apply_discount" in terms and "discount" in terms and "cart" in terms
    assert "add" not in terms and "to" not in terms and "make" not in terms
    assert ("type", "hint") in words.phrases and ("low", "stock") in words.phrases
    assert words.mentions == ["keys.py"]


def test_grep_git_grep_and_python_find_the_same(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GNU grep reads the files when it is there; else git grep (in a repository) or Python:
    the ranking is the same whichever reads."""
    goal = "Let the Lexer report the column of an unexpected token"
    plain = tmp_path / "plain"
    shutil.copytree(project / "jinja2", plain / "jinja2")
    by_grep = ranked(project, goal), ranked(plain, goal)
    monkeypatch.setattr(search, "_gnu_grep", False)
    assert ranked(project, goal) == by_grep[0]  # git grep
    assert ranked(plain, goal)[:10] == by_grep[1][:10]  # Python (a few counts differ)
    assert by_grep[1][0] == "jinja2/lexer.py"


@pytest.mark.parametrize("kind", ["tracked", "untracked", "plain folder"])
def test_nothing_outside_the_repository_reaches_the_map(tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secrets.py").write_text("def secret_discount_key():\n    pass\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shop.py").write_text("class Shop: ...\n")
    if kind != "plain folder":
        commit_all(root)
    (root / "discount.py").symlink_to(outside / "secrets.py")
    (root / "linked").symlink_to(outside)
    if kind == "tracked":
        git(root, "add", "-A")
        git(root, *IDENTITY, "commit", "-q", "-m", "links")
    text = ranked_map(root, "secret discount key")
    assert "secret_discount_key" not in text and "discount.py" not in text
    assert "linked" not in text
