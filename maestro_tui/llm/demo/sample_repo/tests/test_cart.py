import pytest

from shop.cart import Cart


def test_subtotal_sums_lines():
    cart = Cart()
    cart.add("apple", 0.5, 4)
    cart.add("pear", 1.25)
    assert cart.subtotal() == 3.25


def test_total_applies_discount_then_tax():
    cart = Cart()
    cart.add("book", 20.0)
    assert cart.total(discount_percent=10) == 21.6


def test_add_rejects_non_positive_quantity():
    with pytest.raises(ValueError):
        Cart().add("apple", 0.5, 0)
