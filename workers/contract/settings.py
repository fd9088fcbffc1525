"""Typed settings shared by Lambdas and workers, read from the environment once.

Environment variable names live here only; CDK and local mode import them from here.
Parsing is lazy (``core_settings()``): a bad value fails the first request with a clear
message instead of crashing Lambda init.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from workers.contract import scopes

ENV_REDIS_URL: Final = "REDIS_URL"
ENV_REDIS_PASSWORD: Final = "REDIS_PASSWORD"  # noqa: S105 - a variable name, not a secret
ENV_REDIS_SECRET_ARN: Final = "REDIS_SECRET_ARN"  # noqa: S105
ENV_TABLE: Final = "TASKPORT_TABLE"
ENV_ENV: Final = "TASKPORT_ENV"
ENV_RESULT_TTL: Final = "TASKPORT_RESULT_TTL_SECONDS"
ENV_VISIBILITY_TIMEOUT: Final = "TASKPORT_VISIBILITY_TIMEOUT_SECONDS"
ENV_SCOPE_PREFIX: Final = "TASKPORT_SCOPE_PREFIX"
ENV_MAX_BODY_BYTES: Final = "TASKPORT_MAX_BODY_BYTES"
ENV_REDIS_TIMEOUT: Final = "TASKPORT_REDIS_TIMEOUT_SECONDS"

Environment = Literal["aws", "local", "test"]


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


def env_values(mapping: Mapping[str, str], environ: Mapping[str, str] | None) -> dict[str, Any]:
    """Field -> value for each variable of ``mapping`` (field -> variable) that is set."""
    env = os.environ if environ is None else environ
    return {field: env[var] for field, var in mapping.items() if env.get(var)}


def validated(model: type[SettingsModel], values: Mapping[str, Any], what: str) -> SettingsModel:
    """The settings, or a SettingsError naming each bad field (models hide input values)."""
    try:
        return model.model_validate(values)
    except ValueError as exc:
        raise SettingsError(f"invalid {what} settings: {exc}") from None


class CoreSettings(BaseModel):
    # Validation errors name the variable, never echo its value (REDIS_PASSWORD is one).
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: SecretStr | None = None
    redis_secret_arn: str | None = None
    table_name: str = "taskport"
    env: Environment = "aws"
    # Ownership records and indexes live exactly as long as Celery's results.
    result_ttl_seconds: int = Field(default=86_400, ge=60)
    # Larger than every time limit and every countdown (DESIGN 5).
    visibility_timeout_seconds: int = Field(default=3_600, ge=10)
    idempotency_ttl_seconds: int = 86_400
    schedule_dedup_ttl_seconds: int = 86_400
    scope_prefix: str = scopes.DEFAULT_PREFIX
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Bounded socket/connect timeouts on the submit path: 503 within ~2 s when Redis hangs.
    redis_timeout_seconds: float = Field(default=0.8, gt=0, le=10)

    @model_validator(mode="after")
    def _check_tls(self) -> CoreSettings:
        parts = urlsplit(self.redis_url)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"{ENV_REDIS_URL} must be redis://, rediss:// or unix://")
        if parts.scheme == "rediss":
            reqs = parse_qs(parts.query).get("ssl_cert_reqs", ["required"])[0]
            if reqs.lower() not in ("required", "cert_required"):
                raise ValueError(f"{ENV_REDIS_URL}: rediss:// must verify certificates")
        return self

    @property
    def max_countdown_seconds(self) -> int:
        # A countdown past the visibility timeout would be redelivered while still waiting.
        return self.visibility_timeout_seconds // 2

    @property
    def redis_url_checked(self) -> str:
        """The URL with ``ssl_cert_reqs=required`` made explicit for ``rediss://``.

        Without it kombu's broker silently connects with no certificate check (DESIGN 5).
        """
        parts = urlsplit(self.redis_url)
        if parts.scheme != "rediss" or "ssl_cert_reqs=" in parts.query:
            return self.redis_url
        sep = "&" if parts.query else "?"
        return f"{self.redis_url}{sep}ssl_cert_reqs=required"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CoreSettings:
        mapping = {
            "redis_url": ENV_REDIS_URL,
            "redis_password": ENV_REDIS_PASSWORD,
            "redis_secret_arn": ENV_REDIS_SECRET_ARN,
            "table_name": ENV_TABLE,
            "env": ENV_ENV,
            "result_ttl_seconds": ENV_RESULT_TTL,
            "visibility_timeout_seconds": ENV_VISIBILITY_TIMEOUT,
            "scope_prefix": ENV_SCOPE_PREFIX,
            "max_body_bytes": ENV_MAX_BODY_BYTES,
            "redis_timeout_seconds": ENV_REDIS_TIMEOUT,
        }
        return validated(cls, env_values(mapping, environ), "taskport")


@lru_cache(maxsize=1)
def core_settings() -> CoreSettings:
    """The process's settings, parsed on first use (never at import time)."""
    return CoreSettings.from_env()


# The AWS SDK's own names, set by CDK, local mode and tests (boto3 reads only the default
# region; AWS_REGION is what the Lambda runtime sets and some tools read).
ENV_AWS_DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
ENV_AWS_REGION: Final = "AWS_REGION"
ENV_AWS_ENDPOINT_URL: Final = "AWS_ENDPOINT_URL"

# Names read by the notifications/ops settings (workers) and set by CDK and local mode.
ENV_EMAIL_FROM: Final = "TASKPORT_EMAIL_FROM"
ENV_SES_CONFIGURATION_SET: Final = "TASKPORT_SES_CONFIGURATION_SET"
ENV_KMS_KEY_ID: Final = "TASKPORT_KMS_KEY_ID"
ENV_ALERT_RECIPIENTS: Final = "TASKPORT_ALERT_RECIPIENTS"
ENV_UPLOADS_BUCKET: Final = "TASKPORT_UPLOADS_BUCKET"
ENV_ALLOW_LOOPBACK_WEBHOOKS: Final = "TASKPORT_ALLOW_LOOPBACK_WEBHOOKS"
# Celery/billiard read this: "SIGQUIT" turns SIGTERM into soft-then-cold shutdown.
ENV_REMAP_SIGTERM: Final = "REMAP_SIGTERM"
# Worker-only: Celery's soft shutdown phase (below Fargate's stopTimeout of 120 s).
ENV_SOFT_SHUTDOWN_TIMEOUT: Final = "TASKPORT_SOFT_SHUTDOWN_TIMEOUT"
# Tests shorten kombu's unacked-restore sweep to see a killed worker's task come back.
ENV_UNACKED_RESTORE_INTERVAL: Final = "TASKPORT_UNACKED_RESTORE_INTERVAL"

# ---- notifications (issue 4): read by workers/contract/notify_settings.py ----
ENV_SES_MAX_SEND_RATE: Final = "TASKPORT_SES_MAX_SEND_RATE"
ENV_SES_BURST: Final = "TASKPORT_SES_BURST"
ENV_SES_QUOTA_RETRY_SECONDS: Final = "TASKPORT_SES_QUOTA_RETRY_SECONDS"
ENV_WEBHOOK_PORTS: Final = "TASKPORT_WEBHOOK_PORTS"
ENV_WEBHOOK_RETRY_SCHEDULE: Final = "TASKPORT_WEBHOOK_RETRY_SCHEDULE"
ENV_WEBHOOK_MAX_AGE: Final = "TASKPORT_WEBHOOK_MAX_AGE_SECONDS"
ENV_WEBHOOK_DEADLINE: Final = "TASKPORT_WEBHOOK_DEADLINE_SECONDS"
ENV_WEBHOOK_ENDPOINT_CONCURRENCY: Final = "TASKPORT_WEBHOOK_ENDPOINT_CONCURRENCY"
ENV_WEBHOOK_RESOLVER_THREADS: Final = "TASKPORT_WEBHOOK_RESOLVER_THREADS"
ENV_WEBHOOK_RESOLVES_PER_TENANT: Final = "TASKPORT_WEBHOOK_RESOLVES_PER_TENANT"
ENV_WEBHOOK_SECRET_GRACE: Final = "TASKPORT_WEBHOOK_SECRET_GRACE_SECONDS"  # noqa: S105
ENV_SHORT_RETRY_MAX: Final = "TASKPORT_SHORT_RETRY_MAX_SECONDS"
ENV_WEBHOOK_ENDPOINT_CACHE: Final = "TASKPORT_WEBHOOK_ENDPOINT_CACHE_SECONDS"
# Test-only seams, honoured only when TASKPORT_ENV=test (refused otherwise).
ENV_TEST_DNS_OVERRIDES: Final = "TASKPORT_TEST_DNS_OVERRIDES"
ENV_TEST_SES_FAULTS: Final = "TASKPORT_TEST_SES_FAULTS"
