"""Shared fixtures: a real redis-server per test session, flushed between tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra.local.redis_server import RedisServer

os.environ.setdefault("TASKPORT_ENV", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    # Database 0 only: e2e modules keep their brokers in databases of their own.
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:  # type: ignore[name-defined]  # noqa: F821
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()
