"""The metrics Lambda's Redis client: built lazily, bounded timeouts, one quick retry.

The password comes from ``REDIS_PASSWORD`` (local mode, tests) or from the Secrets Manager
secret named by ``REDIS_SECRET_ARN`` (AWS), read once per execution environment and cached;
``REDIS_URL`` never carries it. A redis-py client built by hand retries with backoff by
default (DESIGN 5), so ``retry=`` and both timeouts are always explicit here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from workers.contract.settings import CoreSettings, core_settings

if TYPE_CHECKING:
    import redis

_RETRIES = 1
_BACKOFF_CAP_SECONDS = 0.2
_BACKOFF_BASE_SECONDS = 0.05


def password_from_secret_string(secret_string: str) -> str:
    """The AUTH token in a secret: the raw string, or ``{"password": ...}`` JSON."""
    try:
        parsed = json.loads(secret_string)
    except ValueError:
        return secret_string
    if isinstance(parsed, dict) and isinstance(parsed.get("password"), str):
        return parsed["password"]
    return secret_string


@lru_cache(maxsize=4)
def _secret_password(secret_arn: str) -> str:
    import boto3  # noqa: PLC0415 - in the Lambda runtime; only needed when a secret is used

    response = boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)
    return password_from_secret_string(response["SecretString"])


def redis_password(settings: CoreSettings) -> str | None:
    if settings.redis_password is not None:
        return settings.redis_password.get_secret_value()
    if settings.redis_secret_arn:
        return _secret_password(settings.redis_secret_arn)
    return None


def build_client(settings: CoreSettings) -> redis.Redis:
    import redis  # noqa: PLC0415 - keep import time small for the cold start
    from redis.backoff import ExponentialBackoff  # noqa: PLC0415
    from redis.retry import Retry  # noqa: PLC0415

    timeout = settings.redis_timeout_seconds
    return redis.Redis.from_url(
        settings.redis_url_checked,
        password=redis_password(settings),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(
            ExponentialBackoff(cap=_BACKOFF_CAP_SECONDS, base=_BACKOFF_BASE_SECONDS), _RETRIES
        ),
        health_check_interval=30,
    )


@lru_cache(maxsize=1)
def metrics_client() -> redis.Redis:
    """The process's client, created on first use (never at import time)."""
    return build_client(core_settings())
