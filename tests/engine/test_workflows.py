"""Workflows expand over a real git repository's files into validated plans."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.sources import WorkflowError, load_workflows, parse_workflow
from maestro_tui.sources.paths import glob_regex, module_name, path_slug

BUILT_INS = {"bugfix", "docstrings-everywhere", "fix-lint", "tests-for-every-module"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repo with a src layout, tests, a file git ignores and one that is untracked."""
    files = {
        "src/shop/__init__.py": "",
        "src/shop/cart.py": "def total(): ...\n",
        "src/shop/pricing.py": "def price(): ...\n",
        "src/shop/util/money.py": "def cents(): ...\n",
        "tests/test_cart.py": "def test_total(): ...\n",
        "generated/out.py": "x = 1\n",
        ".gitignore": "generated/\n",
        "README.md": "# shop\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "src", "tests", ".gitignore"], cwd=tmp_path, check=True)
    return tmp_path  # README.md stays untracked: still listed (not ignored)


def test_tests_for_every_module_expands_per_file(repo: Path) -> None:
    flows = load_workflows(repo)
    assert BUILT_INS <= set(flows)
    expanded = flows["tests-for-every-module"].expand(repo)
    tasks = {t.id: t for t in expanded.plan.tasks}
    assert list(tasks) == [
        "tests-src-shop-cart",
        "tests-src-shop-pricing",
        "tests-src-shop-util-money",
    ]
    cart = tasks["tests-src-shop-cart"]
    assert cart.role == "tester" and cart.title == "Tests for shop.cart"
    assert cart.files == ("src/shop/cart.py", "tests/test_shop_cart.py")
    assert "shop.cart (src/shop/cart.py)" in cart.prompt and not cart.depends_on
    assert expanded.task_budgets == dict.fromkeys(tasks, 60000)
    assert expanded.candidates == {} and expanded.total_budget_tokens is None


def test_directory_batches_and_then_tasks(repo: Path) -> None:
    flow = parse_workflow(
        "lint",
        {
            "match": ["src/**/*.py", "*.md"],
            "exclude": ["__init__.py"],
            "per": "directory",
            "batch": 2,
            "role": "refactorer",
            "prompt": "Lint {file}: {files} ({stem}, {module}) {{literal}}",
            "then": [{"id": "review", "role": "reviewer", "prompt": "Review {workflow}."}],
        },
        "test",
    )
    plan = flow.expand(repo).plan
    assert [t.id for t in plan.tasks] == ["lint-01", "lint-02", "review"]
    first, second, review = plan.tasks
    assert first.files == ("README.md", "src/shop/cart.py", "src/shop/pricing.py")
    assert first.prompt == (
        "Lint ., src/shop: README.md, src/shop/cart.py, src/shop/pricing.py"
        " (root, shop, ., shop) {literal}"
    )
    assert second.files == ("src/shop/util/money.py",) and second.title == "lint: src/shop/util"
    assert review.depends_on == ("lint-01", "lint-02") and review.prompt == "Review lint."


def test_bugfix_is_a_staged_chain_with_budgets_and_one_ensemble(repo: Path) -> None:
    bugfix = load_workflows(repo)["bugfix"]
    with pytest.raises(WorkflowError, match="needs a goal"):
        bugfix.expand(repo)
    expanded = bugfix.expand(repo, "the cart total ignores discounts")
    stages = ["analyze", "hypothesize", "implement", "debug", "improve"]
    assert [t.id for t in expanded.plan.tasks] == stages
    assert [t.depends_on for t in expanded.plan.tasks] == [(), *[(s,) for s in stages[:-1]]]
    assert all("the cart total ignores discounts" in t.prompt for t in expanded.plan.tasks)
    assert expanded.candidates == {"hypothesize": 3}
    assert set(expanded.task_budgets) == set(stages)
    assert sum(expanded.task_budgets.values()) <= (expanded.total_budget_tokens or 0)
    assert expanded.plan.goal == "the cart total ignores discounts"


def test_repo_files_and_config_tables_override_built_ins(repo: Path) -> None:
    (repo / "workflows").mkdir()
    (repo / "workflows" / "fix-lint.toml").write_text(
        'match = "*.md"\nprompt = "Proofread {file}."\nrole = "doc_writer"\n'
    )
    (repo / "workflows" / "notes.txt").write_text("not a workflow")
    tables = {"mine": {"stages": [{"id": "only", "prompt": "Do {goal}."}]}}
    flows = load_workflows(repo, tables)
    assert flows["fix-lint"].source == "workflows/fix-lint.toml"
    assert flows["mine"].source == "maestro.toml [workflows.mine]"
    assert [t.id for t in flows["fix-lint"].expand(repo).plan.tasks] == ["fix-lint-README"]
    assert flows["fix-lint"].expand(repo).plan.tasks[0].role == "doc_writer"
    again = {"fix-lint": {"match": "tests/*.py", "prompt": "Fix {file}."}}
    override = load_workflows(repo, again)["fix-lint"].expand(repo).plan.tasks
    assert [t.id for t in override] == ["fix-lint-tests-test_cart"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"match": "*.py", "promt": "x"}, "promt is not a workflow key (did you mean 'prompt'?)"),
        ({"match": "*.py", "prompt": "{modul}"}, "prompt uses unknown placeholder {modul}"),
        ({"match": "*.py", "prompt": "{oops"}, "prompt is not a valid template"),
        ({"match": "*.py", "prompt": "x", "per": "repo"}, "per must be 'file' or 'directory'"),
        ({"match": "*.py", "prompt": "x", "batch": 0}, "batch must be an integer of at least 1"),
        ({"match": "*.py", "prompt": "x", "role": "teser"}, "did you mean 'tester'?"),
        ({"match": 3, "prompt": "x"}, "match must be a list of non-empty strings"),
        ({"prompt": "x"}, "match is required with a top-level prompt"),
        ({"match": "*.py"}, "prompt is required"),
        ({"description": "nothing"}, "or [[stages]] is required"),
        ({"stages": [{"prompt": "x"}]}, "stages[1].id is required"),
        ({"stages": [{"id": "a", "prompt": "{file}"}]}, "stages[1].prompt uses unknown"),
        ({"stages": [{"id": "a", "prompt": "x", "budget": 5}]}, "stages[1].budget is not"),
        ({"stages": "x"}, "stages must be an array of tables"),
        (
            {"stages": [{"id": "a", "prompt": "x"}], "then": [{"id": "a", "prompt": "y"}]},
            "'a' is used by more than one",
        ),
    ],
)
def test_bad_tables_are_refused_naming_source_and_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        parse_workflow("w", table, "maestro.toml [workflows.w]")
    assert message in str(info.value)
    assert str(info.value).startswith("maestro.toml [workflows.w]: workflow 'w': ")


def test_bad_files_are_refused_naming_the_file(repo: Path) -> None:
    (repo / "workflows").mkdir()
    (repo / "workflows" / "broken.toml").write_text("match = [\n")
    (repo / "workflows" / "typo.toml").write_text('match = "*.py"\nprompt = "x"\nper = 1\n')
    with pytest.raises(WorkflowError) as info:
        load_workflows(repo, {"flat": "not a table"})
    problems = info.value.problems
    assert problems[0].startswith("workflows/broken.toml: not valid TOML")
    assert problems[1].startswith("workflows/typo.toml: workflow 'typo': per must be")
    assert problems[2] == "maestro.toml [workflows.flat]: must be a table, got 'not a table'"


def test_expand_refuses_no_matches_and_invalid_plans(repo: Path) -> None:
    none = parse_workflow("w", {"match": "*.rs", "prompt": "x"}, "t")
    with pytest.raises(WorkflowError, match=r"match \['\*\.rs'\].*matched no files"):
        none.expand(repo)
    outside = parse_workflow("w", {"match": "*.md", "prompt": "x", "files": ["../{file}"]}, "t")
    with pytest.raises(WorkflowError, match=r"workflow 'w' \(t\): task 'w-README'.*outside"):
        outside.expand(repo)


def test_globs() -> None:
    def matches(pattern: str, name: str) -> bool:
        return glob_regex(pattern).match(name) is not None

    assert matches("*.py", "a.py") and matches("*.py", "src/deep/a.py")
    assert matches("src/*.py", "src/a.py") and not matches("src/*.py", "src/x/a.py")
    assert matches("src/**/*.py", "src/a.py") and matches("src/**/*.py", "src/x/y/a.py")
    assert not matches("src/**/*.py", "lib/src/a.py")
    assert matches("docs/", "docs/x/y.md") and not matches("docs/", "docs.md")
    assert matches("test_?.py", "t/test_a.py") and not matches("test_?.py", "test_ab.py")
    assert matches("[!_]*.py", "a.py") and not matches("[!_]*.py", "_a.py")
    assert module_name("src/pkg/mod.py") == "pkg.mod" and module_name("pkg/__init__.py") == "pkg"
    assert path_slug("src/pkg/mod.py") == "src-pkg-mod" and path_slug(".") == "root"
