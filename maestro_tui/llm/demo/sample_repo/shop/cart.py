"""A shopping cart."""

from shop.pricing import add_tax, apply_discount


class Cart:
    def __init__(self):
        self.lines = {}

    def add(self, sku, unit_price, qty=1):
        if qty <= 0:
            raise ValueError("quantity must be positive")
        price, count = self.lines.get(sku, (unit_price, 0))
        self.lines[sku] = (price, count + qty)

    def remove(self, sku):
        self.lines.pop(sku, None)

    def subtotal(self):
        return round(sum(price * count for price, count in self.lines.values()), 2)

    def total(self, discount_percent=0, tax_rate=0.2):
        return add_tax(apply_discount(self.subtotal(), discount_percent), tax_rate)
