"""Per-test fixtures shared by the real-worker e2e modules (a module may override them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api_events import ApiCaller, reset_api_settings
from tests.support.workers import WorkerFleet
from workers.contract.settings import ENV_REDIS_URL


@pytest.fixture
def api(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiCaller]:
    monkeypatch.setenv(ENV_REDIS_URL, redis_url)
    reset_api_settings()
    yield ApiCaller(tenant="acme")
    reset_api_settings()


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Iterator[WorkerFleet]:
    fleet = WorkerFleet(redis_url, tmp_path)
    yield fleet
    # The next test flushes Redis: nothing a graceful stop would put back is needed.
    fleet.kill_all()
