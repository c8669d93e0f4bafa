import pytest

from shop.inventory import Inventory, OutOfStock


def test_reserve_reduces_stock():
    inv = Inventory({"apple": 5})
    inv.reserve("apple", 2)
    assert inv.available("apple") == 3


def test_reserve_more_than_available_fails():
    with pytest.raises(OutOfStock):
        Inventory({"apple": 1}).reserve("apple", 2)


def test_restock_adds():
    inv = Inventory()
    inv.restock("pear", 3)
    assert inv.available("pear") == 3
