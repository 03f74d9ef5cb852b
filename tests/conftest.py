"""Shared fixtures for the whole suite (tiny models live in ``tests/helpers`` modules here)."""
