"""boto3 clients created on first use, once per process (after fork for prefork children).

boto3 is imported lazily: the Lambdas bundle this package and must not pay for boto3 at
import, and the catalog must import without it. ``AWS_ENDPOINT_URL`` (local mode: moto) is
honoured by boto3 itself.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=16)
def _client(service: str, pid: int, max_attempts: int) -> Any:
    import boto3
    from botocore.config import Config

    # Bounded timeouts. ``max_attempts`` counts calls: 1 where taskport's own policy
    # decides retries (SES: backoff with jitter, quota windows).
    config = Config(
        connect_timeout=5,
        read_timeout=15,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=64,
    )
    session: Any = boto3.session.Session()
    return session.client(service, config=config)


@lru_cache(maxsize=16)
def _table(name: str, pid: int) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=10,
        retries={"mode": "standard"},
        max_pool_connections=64,  # a gevent worker reads from many greenlets at once
    )
    return boto3.session.Session().resource("dynamodb", config=config).Table(name)


def client(service: str, *, max_attempts: int = 3) -> Any:
    return _client(service, os.getpid(), max_attempts)


def table(name: str) -> Any:
    return _table(name, os.getpid())


def reset() -> None:
    """Forget cached clients (tests switch endpoints between moto instances)."""
    _client.cache_clear()
    _table.cache_clear()
