"""Fixtures of the workflow tests: an in-memory store for the record-level ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from watcher.store.db import Store, open_store


@pytest.fixture
def store() -> Iterator[Store]:
    """An empty store in memory (SQLite), closed after the test."""
    opened = open_store("sqlite://")
    yield opened
    opened.close()
