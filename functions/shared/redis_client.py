"""The Lambdas' Redis client: created on first use, bounded timeouts and retries.

DESIGN 5: a hand-built ``redis.Redis`` retries with backoff by default (a refused
connection took 3-4 s), and a hung Redis holds a socket forever without a timeout. The
submit path must answer 503 within ~2 s, so: explicit socket/connect timeouts, one retry
on a connection error only (a timed-out command may have run: never resend it blindly).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING

from workers.contract.settings import CoreSettings, core_settings

if TYPE_CHECKING:
    import redis


@lru_cache(maxsize=1)
def _password(settings: CoreSettings) -> str | None:
    if settings.redis_password is not None:
        return settings.redis_password.get_secret_value()
    if not settings.redis_secret_arn:
        return None
    import boto3

    raw = boto3.client("secretsmanager").get_secret_value(SecretId=settings.redis_secret_arn)
    secret = raw["SecretString"]
    # CDK's generated secrets are JSON; a plain string secret is the token itself.
    try:
        parsed = json.loads(secret)
    except ValueError:
        return secret
    return str(parsed.get("password") or parsed.get("token") or secret)


@lru_cache(maxsize=1)
def producer_client() -> redis.Redis:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    settings = core_settings()
    timeout = settings.redis_timeout_seconds
    return redis.Redis.from_url(
        settings.redis_url_checked,
        password=_password(settings),
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        retry_on_timeout=False,
        health_check_interval=30,
    )


def unavailable_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "Redis is unreachable": the API answers 503 for them."""
    import redis

    return (redis.ConnectionError, redis.TimeoutError, redis.exceptions.BusyLoadingError)
