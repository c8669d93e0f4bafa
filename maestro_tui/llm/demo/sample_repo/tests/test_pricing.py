from shop.pricing import add_tax, apply_discount, format_price


def test_apply_discount():
    assert apply_discount(100.0, 15) == 85.0


def test_add_tax_default_rate():
    assert add_tax(10.0) == 12.0


def test_format_price():
    assert format_price(3.5) == "3.50 EUR"
