"""Housing: base-year dwelling prices, the yearly housing market and housing indicators."""
