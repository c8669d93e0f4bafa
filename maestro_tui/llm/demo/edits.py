"""The demo tasks' edits to the sample repo, each a function of the file as it was read.

Edits anchor on lines they expect to find, so they compose when tasks run one after another.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from maestro_tui.workspace.merge import ConflictHunk, rebuild


class EditError(ValueError):
    """The file does not look as the script expects (an anchor line is missing)."""


Edit = Callable[[str | None], str]  # the file's content (None: does not exist) -> new content


def _replace(*pairs: tuple[str, str]) -> Edit:
    def edit(content: str | None) -> str:
        text = content or ""
        for old, new in pairs:
            if old not in text:
                raise EditError(f"expected to find {old.strip()!r}")
            text = text.replace(old, new, 1)
        return text

    return edit


def _append(block: str) -> Edit:
    def edit(content: str | None) -> str:
        if content is None:
            raise EditError("the file does not exist")
        if block.strip() in content:
            return content  # already there: a retried attempt is idempotent
        return content.rstrip("\n") + "\n" + block

    return edit


def create(text: str) -> Edit:
    return lambda _content: text


PRICING_TYPES = _replace(
    (
        "def apply_discount(price, percent):\n",
        "def apply_discount(price: float, percent: float) -> float:\n"
        '    """Return `price` less `percent` per cent, rounded to cents."""\n',
    ),
    (
        "def add_tax(price, rate=0.2):\n",
        "def add_tax(price: float, rate: float = 0.2) -> float:\n"
        '    """Return `price` with tax at `rate` added, rounded to cents."""\n',
    ),
    (
        'def format_price(amount, currency="EUR"):\n',
        'def format_price(amount: float, currency: str = "EUR") -> str:\n'
        '    """Show `amount` with two decimals and its currency."""\n',
    ),
)

DISCOUNT_GUARD = _replace(
    (
        "    return round(price * (1 - percent / 100), 2)\n",
        "    if not 0 <= percent <= 100:\n"
        '        raise ValueError(f"discount must be 0..100 per cent, got {percent}")\n'
        "    return round(price * (1 - percent / 100), 2)\n",
    )
)

BULK_DISCOUNT = _append('''

def bulk_discount(quantity: int) -> float:
    """Per cent off for buying `quantity` items: 10 from 10 items, 5 from 5, else none."""
    if quantity >= 10:
        return 10.0
    if quantity >= 5:
        return 5.0
    return 0.0
''')

INVENTORY_TYPES = _replace(
    (
        "class OutOfStock(Exception):\n    pass\n",
        'class OutOfStock(Exception):\n    """A reservation asked for more than is in stock."""\n',
    ),
    (
        "    def __init__(self, stock=None):\n",
        "    def __init__(self, stock: dict[str, int] | None = None) -> None:\n",
    ),
    ("    def available(self, sku):\n", "    def available(self, sku: str) -> int:\n"),
    ("    def reserve(self, sku, qty):\n", "    def reserve(self, sku: str, qty: int) -> None:\n"),
    ("    def restock(self, sku, qty):\n", "    def restock(self, sku: str, qty: int) -> None:\n"),
)

LOW_STOCK = _append('''
    def low_stock(self, threshold: int = 5) -> list[str]:
        """The SKUs with fewer than `threshold` items left, sorted."""
        return sorted(sku for sku, qty in self.stock.items() if qty < threshold)
''')

CART_DOCS = _replace(
    ("class Cart:\n", 'class Cart:\n    """Items to buy: sku -> (unit price, quantity)."""\n\n'),
    (
        "    def add(self, sku, unit_price, qty=1):\n",
        "    def add(self, sku, unit_price, qty=1):\n"
        '        """Add `qty` of `sku` at `unit_price`; quantities of one sku add up."""\n',
    ),
    (
        "    def remove(self, sku):\n",
        '    def remove(self, sku):\n        """Drop `sku` from the cart, if it is there."""\n',
    ),
    (
        "    def subtotal(self):\n",
        '    def subtotal(self):\n        """The sum of the lines, before discount and tax."""\n',
    ),
    (
        "    def total(self, discount_percent=0, tax_rate=0.2):\n",
        "    def total(self, discount_percent=0, tax_rate=0.2):\n"
        '        """The amount to pay: subtotal, less the discount, plus tax."""\n',
    ),
)

CART_BULK_METHODS = '''
    def quantity(self):
        """How many items the cart holds."""
        return sum(count for _, count in self.lines.values())

    def bulk_total(self, tax_rate=0.2):
        """The total with the bulk discount that the cart's quantity earns."""
        return self.total(bulk_discount(self.quantity()), tax_rate)
'''


def cart_bulk(content: str | None) -> str:
    text = _replace(
        (
            "from shop.pricing import add_tax, apply_discount\n",
            "from shop.pricing import add_tax, apply_discount, bulk_discount\n",
        )
    )(content)
    return _append(CART_BULK_METHODS)(text)


TEST_DISCOUNT_GUARD = """import pytest

from shop.pricing import apply_discount


@pytest.mark.parametrize("percent", [-1, 100.5, 250])
def test_out_of_range_discount_is_rejected(percent):
    with pytest.raises(ValueError):
        apply_discount(10.0, percent)


def test_full_discount_is_free():
    assert apply_discount(10.0, 100) == 0.0
"""

TEST_BULK_DISCOUNT = """import pytest

from shop.pricing import bulk_discount


@pytest.mark.parametrize(
    ("quantity", "percent"), [(1, 0.0), (4, 0.0), (5, 5.0), (9, 5.0), (10, 10.0), (50, 10.0)]
)
def test_bulk_discount_tiers(quantity, percent):
    assert bulk_discount(quantity) == percent
"""

TEST_LOW_STOCK = """from shop.inventory import Inventory


def test_low_stock_lists_skus_below_threshold_sorted():
    inv = Inventory({"pear": 2, "apple": 1, "fig": 9})
    assert inv.low_stock(threshold=3) == ["apple", "pear"]


def test_low_stock_default_threshold_is_five():
    assert Inventory({"a": 4, "b": 5}).low_stock() == ["a"]
"""

TEST_CART_BULK = """from shop.cart import Cart


def test_quantity_counts_items():
    cart = Cart()
    cart.add("pen", 2.0, 3)
    cart.add("pad", 1.0, 2)
    assert cart.quantity() == 5


def test_bulk_total_applies_tier_then_tax():
    cart = Cart()
    cart.add("pen", 2.0, 10)
    assert cart.bulk_total() == 21.6
"""

README_USAGE = _append("""
## Usage

```python
from shop.cart import Cart
from shop.inventory import Inventory

cart = Cart()
cart.add("pen", 2.0, 10)
cart.bulk_total()  # 10 items earn 10% off, then 20% tax: 21.6

stock = Inventory({"pen": 3, "pad": 40})
stock.low_stock()  # ["pen"]: fewer than 5 left
```
""")


def _side_edits(
    base: list[str], side: list[str], rank: int
) -> list[tuple[int, int, int, list[str]]]:
    """(start, end, rank, new lines) for each change `side` makes to `base`."""
    matcher = difflib.SequenceMatcher(a=base, b=side, autojunk=False)
    return [
        (i1, i2, rank, side[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def combine_hunk(hunk: ConflictHunk) -> str:
    """Both sides' changes to one conflicted hunk, when they touch different lines: each side's
    edits applied to the base, ours before theirs where both add at the same place. EditError
    when both change the same line (the demo model does not guess)."""
    base = hunk.base.splitlines(keepends=True)
    edits = sorted(
        _side_edits(base, hunk.ours.splitlines(keepends=True), 0)
        + _side_edits(base, hunk.theirs.splitlines(keepends=True), 1)
    )
    for (a1, a2, ra, _), (b1, b2, rb, _) in zip(edits, edits[1:], strict=False):
        if ra != rb and (b1 < a2 or (a1 == b1 and a2 > a1 and b2 > b1)):
            raise EditError("both sides change the same lines")
    out: list[str] = []
    at = 0
    for i1, i2, _rank, lines in edits:
        out += base[at:i1]
        out += lines
        at = max(at, i2)
    return "".join(out + base[at:])


def resolve_conflicts(content: str | None) -> str:
    """The file with every conflict resolved by combining both sides (see combine_hunk)."""
    if content is None or "<<<<<<<" not in content:
        raise EditError("no conflict markers to resolve")
    return rebuild(content, combine_hunk)
