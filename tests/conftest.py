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

# Ray reads its authentication mode once per process: the 2-node cluster test needs token
# authentication off (as Ray 2.60 does on a loopback cluster here), so every Ray use in the
# session runs with it off, and a later local ray.init() cannot start a cluster in the other
# mode than the driver expects.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(params=BACKENDS)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty shared storage: SQLite, and PostgreSQL when configured."""
    with storages.shared_url(request.param, tmp_path) as url:
        yield url
