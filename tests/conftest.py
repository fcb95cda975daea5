"""Shared fixtures; hypothesis profiles chosen by HYPOTHESIS_PROFILE (dev, ci, thorough)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import _storages as storages
from _storages import BACKENDS

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(params=BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty shared storage: SQLite, and PostgreSQL when configured."""
    with storages.shared_url(request.param, tmp_path) as url:
        yield url
