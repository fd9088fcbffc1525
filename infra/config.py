"""Deployment settings read from CDK context (cdk.json, ``-c key=value``), typed, read once.

Every value has a default that synthesises, so ``cdk synth`` works on a fresh clone; the
deploy documentation (docs/deploy.md) lists which ones a real deployment sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

from workers.contract import scopes
from workers.contract.settings import CoreSettings

_CORE_DEFAULTS = CoreSettings()
# CloudWatch Logs accepts only these retention periods.
RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _optional_str(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    stack_name: str = "Taskport"
    # SES sending domain (an email identity with Easy DKIM and a MAIL FROM subdomain).
    email_domain: str = "example.com"
    email_from: str | None = None  # default: noreply@<email_domain>
    mail_from_subdomain: str = "mail"
    alert_recipients: tuple[str, ...] = ()
    alarm_email: str | None = None
    # A prebuilt ARM64 worker image (skips the Docker build of the Dockerfile asset).
    worker_image_uri: str | None = None
    worker_cpu: int = 512
    worker_memory_mib: int = 1024
    # Network: NAT egress is needed by webhooks; interface endpoints are an extra switch.
    nat_gateways: int = 1
    interface_endpoints: bool = False
    # Cache.
    cache_node_type: str = "cache.t4g.small"
    cache_port: int = 6380
    cache_memory_alarm_percent: int = 75
    # API: Cognito by default, or an existing issuer + audience.
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    scope_prefix: str = scopes.DEFAULT_PREFIX
    cognito_domain_prefix: str | None = None  # default: <stack name>-<account id>
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    # Shared by Lambdas and workers so every reader sees the same value (DESIGN 5).
    visibility_timeout_seconds: int = _CORE_DEFAULTS.visibility_timeout_seconds
    result_ttl_seconds: int = _CORE_DEFAULTS.result_ttl_seconds
    # Operations.
    log_retention_days: int = 30
    retain_data: bool = True
    oldest_task_age_alarm_seconds: int = 900

    @property
    def sender(self) -> str:
        return self.email_from or f"noreply@{self.email_domain}"

    @property
    def log_retention(self) -> logs.RetentionDays:
        return RETENTION_BY_DAYS[self.log_retention_days]

    @property
    def uses_cognito(self) -> bool:
        return self.jwt_issuer is None

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        parsers: dict[str, Callable[[Any], Any]] = {
            "bool": _bool,
            "int": int,
            "str": str,
            "str | None": _optional_str,
            "tuple[str, ...]": _str_tuple,
        }
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = node.try_get_context(field.name)
            if raw is not None:
                values[field.name] = parsers[str(field.type)](raw)
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        if bool(self.jwt_issuer) != bool(self.jwt_audience):
            raise ValueError("jwt_issuer and jwt_audience must be given together")
        if self.log_retention_days not in RETENTION_BY_DAYS:
            raise ValueError(f"log_retention_days must be one of {sorted(RETENTION_BY_DAYS)}")
        if not 1 <= self.nat_gateways <= 2:
            # Webhook deliveries reach the public internet only through NAT.
            raise ValueError("nat_gateways must be 1 or 2 (the notifications workers need NAT)")
