"""Typed settings of email and webhooks, read from the environment once (lazily).

Shared by the API Lambda (KMS key, SSRF policy at registration, secret grace period) and the
notifications workers (everything). Environment variable names live in
``workers.contract.settings``; CDK and local mode import them from there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workers.contract import settings as names
from workers.contract.email_address import EmailAddress
from workers.contract.settings import core_settings

# Standard Webhooks' suggested schedule (seconds after each failed attempt): 5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h; jitter is added on top.
DEFAULT_WEBHOOK_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class NotificationSettings(BaseModel):
    # Validation errors name the variable, never echo its value (REDIS_PASSWORD is one).
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    env: str = "aws"
    table_name: str = "taskport"
    # SES: the sender and configuration set are settings, never hard-coded (issue 4).
    email_from: EmailAddress = "taskport@example.com"
    configuration_set: str = Field(default="taskport", min_length=1, max_length=64)
    alert_recipients: tuple[EmailAddress, ...] = ()
    # SES counts recipients; this is the account's max send rate shared by every worker.
    ses_max_send_rate: float = Field(default=14.0, gt=0, le=10_000)
    # Tokens the bucket holds when idle (default: one second of sending).
    ses_burst: float | None = Field(default=None, gt=0)
    # The daily quota is a rolling 24 h window: retry an hour later, not every few minutes.
    ses_quota_retry_seconds: int = Field(default=3600, ge=1)
    kms_key_id: str = "alias/taskport"
    # Webhooks.
    webhook_ports: tuple[int, ...] = (80, 443)
    allow_loopback_webhooks: bool = False
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_SCHEDULE
    webhook_max_age_seconds: int = Field(default=86_400, ge=1)
    webhook_connect_timeout: float = Field(default=5.0, gt=0)
    webhook_deadline_seconds: float = Field(default=15.0, gt=0, le=60)
    webhook_max_response_bytes: int = Field(default=4096, ge=0)
    webhook_retry_after_cap_seconds: float = Field(default=3600.0, ge=0)
    webhook_endpoint_concurrency: int = Field(default=8, ge=1, le=1000)
    # Green pool: webhook names are resolved in a pool of threads, and a lookup that hangs
    # holds its thread past any deadline; one tenant may hold only a few (resolver_gate).
    webhook_resolver_threads: int = Field(default=32, ge=2, le=1000)
    webhook_resolves_per_tenant: int = Field(default=4, ge=1, le=1000)
    webhook_secret_grace_seconds: int = Field(default=86_400, ge=0)
    # Workers cache an endpoint item this long (rotation/disable visible after it).
    webhook_endpoint_cache_seconds: float = Field(default=5.0, ge=0)
    webhook_attempts_kept: int = Field(default=100, ge=1, le=1000)
    webhook_attempts_ttl_seconds: int = Field(default=7 * 86_400, ge=60)
    # Retries up to this delay stay in the broker as a countdown; longer ones go to the
    # retry schedule (DESIGN 5: never a countdown near the visibility timeout).
    short_retry_max_seconds: float = Field(default=300.0, ge=0)
    # Test-only seams (refused unless env is test).
    test_dns_overrides: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    test_ses_faults: bool = False

    @field_validator("webhook_ports", "webhook_retry_schedule", "alert_recipients", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("test_dns_overrides", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> NotificationSettings:
        relaxed = self.env in ("local", "test")
        if self.allow_loopback_webhooks and not relaxed:
            raise ValueError(
                f"{names.ENV_ALLOW_LOOPBACK_WEBHOOKS}=1 is only allowed when"
                f" {names.ENV_ENV} is local or test"
            )
        if (self.test_dns_overrides or self.test_ses_faults) and self.env != "test":
            raise ValueError("test seams are only allowed when TASKPORT_ENV=test")
        if not self.webhook_retry_schedule:
            raise ValueError(f"{names.ENV_WEBHOOK_RETRY_SCHEDULE} needs at least one delay")
        if any(not 0 < p < 65536 for p in self.webhook_ports):
            raise ValueError(f"{names.ENV_WEBHOOK_PORTS}: ports are 1..65535")
        if self.webhook_resolves_per_tenant >= self.webhook_resolver_threads:
            # One tenant whose DNS hangs could then hold every resolver thread.
            raise ValueError(
                f"{names.ENV_WEBHOOK_RESOLVES_PER_TENANT} must be below"
                f" {names.ENV_WEBHOOK_RESOLVER_THREADS}"
            )
        return self

    @property
    def burst(self) -> float:
        return self.ses_burst if self.ses_burst is not None else self.ses_max_send_rate

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotificationSettings:
        mapping = {
            "email_from": names.ENV_EMAIL_FROM,
            "configuration_set": names.ENV_SES_CONFIGURATION_SET,
            "alert_recipients": names.ENV_ALERT_RECIPIENTS,
            "ses_max_send_rate": names.ENV_SES_MAX_SEND_RATE,
            "ses_burst": names.ENV_SES_BURST,
            "ses_quota_retry_seconds": names.ENV_SES_QUOTA_RETRY_SECONDS,
            "kms_key_id": names.ENV_KMS_KEY_ID,
            "webhook_ports": names.ENV_WEBHOOK_PORTS,
            "allow_loopback_webhooks": names.ENV_ALLOW_LOOPBACK_WEBHOOKS,
            "webhook_retry_schedule": names.ENV_WEBHOOK_RETRY_SCHEDULE,
            "webhook_max_age_seconds": names.ENV_WEBHOOK_MAX_AGE,
            "webhook_deadline_seconds": names.ENV_WEBHOOK_DEADLINE,
            "webhook_endpoint_concurrency": names.ENV_WEBHOOK_ENDPOINT_CONCURRENCY,
            "webhook_resolver_threads": names.ENV_WEBHOOK_RESOLVER_THREADS,
            "webhook_resolves_per_tenant": names.ENV_WEBHOOK_RESOLVES_PER_TENANT,
            "webhook_secret_grace_seconds": names.ENV_WEBHOOK_SECRET_GRACE,
            "short_retry_max_seconds": names.ENV_SHORT_RETRY_MAX,
            "webhook_endpoint_cache_seconds": names.ENV_WEBHOOK_ENDPOINT_CACHE,
            "test_dns_overrides": names.ENV_TEST_DNS_OVERRIDES,
            "test_ses_faults": names.ENV_TEST_SES_FAULTS,
        }
        values = names.env_values(mapping, environ)
        core = core_settings() if environ is None else names.CoreSettings.from_env(environ)
        values.setdefault("env", core.env)
        values.setdefault("table_name", core.table_name)
        return names.validated(cls, values, "notification")


@lru_cache(maxsize=1)
def notify_settings() -> NotificationSettings:
    """The process's settings, parsed on first use (never at import time)."""
    return NotificationSettings.from_env()
