"""Agents: households, persons, dwellings and firms as columns; municipalities as Mesa agents."""
