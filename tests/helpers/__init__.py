"""Shared test helpers: tiny models with known structure (``helpers.nets``)."""
