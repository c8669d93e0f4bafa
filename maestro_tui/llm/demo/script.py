"""The demo's script: the plan the demo planner submits and each task's tool calls.

Two independent tasks, `pricing-types` and `discount-guard`, both change the first lines of
`apply_discount` in `shop/pricing.py`: merged from the same base they genuinely conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maestro_tui.llm.demo.edits import (
    BULK_DISCOUNT,
    CART_DOCS,
    DISCOUNT_GUARD,
    INVENTORY_TYPES,
    LOW_STOCK,
    PRICING_TYPES,
    README_USAGE,
    TEST_BULK_DISCOUNT,
    TEST_CART_BULK,
    TEST_DISCOUNT_GUARD,
    TEST_LOW_STOCK,
    Edit,
    cart_bulk,
    create,
)

TEST_COMMAND = "python -m pytest -q"
CONFLICTING_TASKS = ("pricing-types", "discount-guard")
CONFLICT_FILE = "shop/pricing.py"


@dataclass(frozen=True)
class Step:
    """One tool call of a task's script, with what the model says before making it."""

    tool: str  # list_files | read_file | write_file | run_command | publish_finding | finish
    say: str
    path: str = ""
    edit: Edit | None = None
    text: str = ""  # command, finding or summary

    def arguments(self, content: str) -> dict[str, Any]:
        if self.tool == "read_file":
            return {"path": self.path}
        if self.tool == "write_file":
            return {"path": self.path, "content": content}
        if self.tool == "run_command":
            return {"command": self.text}
        if self.tool == "publish_finding":
            return {"text": self.text}
        if self.tool == "finish":
            return {"summary": self.text}
        return {}


def _task(role: str, title: str, prompt: str, files: list[str], deps: list[str]) -> dict[str, Any]:
    return {"title": title, "role": role, "prompt": prompt, "files": files, "depends_on": deps}


PLAN_TASKS: dict[str, dict[str, Any]] = {
    "pricing-types": _task(
        "refactorer",
        "Type hints for pricing",
        "Add type hints and one-line docstrings to every function in shop/pricing.py.",
        ["shop/pricing.py"],
        [],
    ),
    "discount-guard": _task(
        "coder",
        "Reject impossible discounts",
        "apply_discount must raise ValueError when percent is outside 0..100.",
        ["shop/pricing.py"],
        [],
    ),
    "inventory-types": _task(
        "refactorer",
        "Type hints for inventory",
        "Add type hints to Inventory's methods and a docstring to OutOfStock.",
        ["shop/inventory.py"],
        [],
    ),
    "cart-docs": _task(
        "doc_writer",
        "Document the cart",
        "Write docstrings for Cart and each of its methods.",
        ["shop/cart.py"],
        [],
    ),
    "bulk-discount": _task(
        "coder",
        "Bulk discount tiers",
        "Add bulk_discount(quantity) to shop/pricing.py: 10% from 10 items, 5% from 5.",
        ["shop/pricing.py"],
        ["pricing-types"],
    ),
    "low-stock": _task(
        "coder",
        "Low-stock report",
        "Add Inventory.low_stock(threshold=5): the sorted SKUs with fewer items left.",
        ["shop/inventory.py"],
        ["inventory-types"],
    ),
    "test-discount-guard": _task(
        "tester",
        "Test the discount guard",
        "Test that apply_discount rejects percentages outside 0..100.",
        ["tests/test_discount_guard.py", "shop/pricing.py"],
        ["discount-guard"],
    ),
    "cart-bulk": _task(
        "coder",
        "Bulk pricing in the cart",
        "Add Cart.quantity() and Cart.bulk_total(), which applies bulk_discount.",
        ["shop/cart.py"],
        ["bulk-discount", "cart-docs"],
    ),
    "test-bulk-discount": _task(
        "tester",
        "Test bulk discount tiers",
        "Test every tier boundary of bulk_discount.",
        ["tests/test_bulk_discount.py", "shop/pricing.py"],
        ["bulk-discount"],
    ),
    "test-low-stock": _task(
        "tester",
        "Test the low-stock report",
        "Test Inventory.low_stock, including its default threshold.",
        ["tests/test_low_stock.py", "shop/inventory.py"],
        ["low-stock"],
    ),
    "test-cart-bulk": _task(
        "tester",
        "Test bulk pricing in the cart",
        "Test Cart.quantity and Cart.bulk_total.",
        ["tests/test_cart_bulk.py", "shop/cart.py"],
        ["cart-bulk"],
    ),
    "readme-usage": _task(
        "doc_writer",
        "Usage section in the README",
        "Document the cart, bulk pricing and the low-stock report in README.md.",
        ["README.md"],
        ["cart-bulk", "low-stock"],
    ),
    "final-review": _task(
        "reviewer",
        "Review the change set",
        "Review the new pricing and cart code, run the tests and publish what you find.",
        ["shop/cart.py", "shop/pricing.py"],
        [
            "test-cart-bulk",
            "test-bulk-discount",
            "test-low-stock",
            "test-discount-guard",
            "readme-usage",
        ],
    ),
}


# What the demo planner looks at before it plans: (what it says, tool, arguments). Short,
# so the demo's planning takes no longer than when it read nothing.
PLANNER_READS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("Reading the pricing code.", "read_file", {"path": "shop/pricing.py"}),
    ("Who calls apply_discount?", "search_code", {"pattern": "apply_discount"}),
)


def demo_plan() -> dict[str, Any]:
    """The submit_plan arguments of the demo planner (a fresh copy)."""
    return {"tasks": [{"id": tid, **dict(task)} for tid, task in PLAN_TASKS.items()]}


def _edit_script(path: str, edit: Edit, what: str, summary: str, read: bool = True) -> list[Step]:
    steps = [Step("read_file", f"Reading {path} before changing it.", path=path)] if read else []
    return [
        *steps,
        Step("write_file", f"Writing {path}: {what}", path=path, edit=edit),
        Step("run_command", "Running the test suite.", text=TEST_COMMAND),
        Step("finish", "Done.", text=summary),
    ]


TASK_SCRIPTS: dict[str, list[Step]] = {
    "pricing-types": _edit_script(
        "shop/pricing.py",
        PRICING_TYPES,
        "type hints and docstrings for all three functions.",
        "Add type hints and docstrings to shop/pricing.py",
    ),
    "discount-guard": _edit_script(
        "shop/pricing.py",
        DISCOUNT_GUARD,
        "apply_discount now rejects percentages outside 0..100.",
        "Reject discounts outside 0..100 per cent in apply_discount",
    ),
    "inventory-types": _edit_script(
        "shop/inventory.py",
        INVENTORY_TYPES,
        "typed signatures and an OutOfStock docstring.",
        "Add type hints to Inventory and document OutOfStock",
    ),
    "cart-docs": _edit_script(
        "shop/cart.py",
        CART_DOCS,
        "a docstring for the class and each method.",
        "Document Cart and its methods",
    ),
    "bulk-discount": _edit_script(
        "shop/pricing.py",
        BULK_DISCOUNT,
        "a bulk_discount function with two tiers.",
        "Add bulk_discount: 5% from 5 items, 10% from 10",
    ),
    "low-stock": _edit_script(
        "shop/inventory.py",
        LOW_STOCK,
        "Inventory.low_stock, sorted for stable output.",
        "Add Inventory.low_stock for restocking alerts",
    ),
    "cart-bulk": _edit_script(
        "shop/cart.py",
        cart_bulk,
        "quantity() and bulk_total() on Cart.",
        "Let the cart apply bulk discounts: Cart.quantity and Cart.bulk_total",
    ),
    "test-discount-guard": [
        Step("read_file", "Checking how apply_discount validates.", path="shop/pricing.py"),
        *_edit_script(
            "tests/test_discount_guard.py",
            create(TEST_DISCOUNT_GUARD),
            "out-of-range and boundary cases.",
            "Test the apply_discount range guard",
            read=False,
        ),
    ],
    "test-bulk-discount": [
        Step("read_file", "Reading bulk_discount's tiers.", path="shop/pricing.py"),
        *_edit_script(
            "tests/test_bulk_discount.py",
            create(TEST_BULK_DISCOUNT),
            "one case either side of each tier.",
            "Test bulk_discount tier boundaries",
            read=False,
        ),
    ],
    "test-low-stock": [
        Step("read_file", "Reading low_stock.", path="shop/inventory.py"),
        *_edit_script(
            "tests/test_low_stock.py",
            create(TEST_LOW_STOCK),
            "threshold and ordering cases.",
            "Test Inventory.low_stock",
            read=False,
        ),
    ],
    "test-cart-bulk": [
        Step("read_file", "Reading the cart's bulk pricing.", path="shop/cart.py"),
        *_edit_script(
            "tests/test_cart_bulk.py",
            create(TEST_CART_BULK),
            "quantity and bulk_total cases.",
            "Test Cart.quantity and Cart.bulk_total",
            read=False,
        ),
    ],
    "readme-usage": _edit_script(
        "README.md",
        README_USAGE,
        "a Usage section with a worked example.",
        "Add a Usage section to the README",
    ),
    "final-review": [
        Step("list_files", "Looking at what the run changed."),
        Step("read_file", "Reading the cart.", path="shop/cart.py"),
        Step("run_command", "Running the whole suite.", text=TEST_COMMAND),
        Step(
            "publish_finding",
            "Noting one follow-up for the team.",
            text="Cart.total takes an explicit discount while bulk_total picks its own; "
            "consider one pricing policy object instead of two entry points.",
        ),
        Step(
            "finish",
            "Review done.",
            text="Review: pricing, cart and inventory changes read well; tests pass",
        ),
    ],
}


def resolve_script(path: str) -> list[Step]:
    """A task sent back with conflict markers in `path`: keep both sides' changes, then test."""
    from maestro_tui.llm.demo.edits import resolve_conflicts

    return _edit_script(
        path,
        resolve_conflicts,
        "both sides' changes kept, the conflict markers gone.",
        f"Resolve the conflict in {path}, keeping the changes of both sides",
    )
