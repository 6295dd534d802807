"""Housing: dwelling prices of the base year (and, later, the housing market)."""
