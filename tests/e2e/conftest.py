"""Fixtures shared by the real-worker e2e modules: per-test ones (a module may override
them) and, for modules with long-lived workers, a Redis database of the module's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from infra.local.redis_server import RedisServer
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


@pytest.fixture(scope="module")
def module_url(request: pytest.FixtureRequest, redis_server: RedisServer) -> str:
    """The module's own database (its ``MODULE_DB``), flushed once: other modules' per-test
    flushes cannot touch the module's long-lived workers."""
    url = f"redis://127.0.0.1:{redis_server.port}/{request.module.MODULE_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(scope="module")
def rdb(module_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(module_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def client_app(module_url: str) -> Iterator[Any]:
    """A plain Celery app of "another service": no taskport code, only names."""
    from celery import Celery

    app = Celery("other-service", broker=module_url)
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()
