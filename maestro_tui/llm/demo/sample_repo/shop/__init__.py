"""shop: prices, a cart and stock levels."""
