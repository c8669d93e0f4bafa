"""Stock levels."""


class OutOfStock(Exception):
    pass


class Inventory:
    def __init__(self, stock=None):
        self.stock = dict(stock or {})

    def available(self, sku):
        return self.stock.get(sku, 0)

    def reserve(self, sku, qty):
        if self.available(sku) < qty:
            raise OutOfStock(sku)
        self.stock[sku] -= qty

    def restock(self, sku, qty):
        self.stock[sku] = self.available(sku) + qty
