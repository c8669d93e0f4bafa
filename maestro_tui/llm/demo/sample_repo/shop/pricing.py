"""Prices: discounts, tax and display."""


def apply_discount(price, percent):
    return round(price * (1 - percent / 100), 2)


def add_tax(price, rate=0.2):
    return round(price * (1 + rate), 2)


def format_price(amount, currency="EUR"):
    return f"{amount:.2f} {currency}"
