"""Fixtures of the atomic-write tests: none beyond pytest's `tmp_path` (each test owns a folder)."""
