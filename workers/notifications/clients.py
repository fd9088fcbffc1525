"""Per-process clients of the notification tasks (created on first use, after fork)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from workers.contract import aws_clients, ssrf
from workers.contract.notify_settings import notify_settings
from workers.state_store import state_client

if TYPE_CHECKING:
    import httpx


def ses() -> Any:
    # One call per send: taskport's policy (backoff, quota window) decides retries.
    client = aws_clients.client("sesv2", max_attempts=1)
    settings = notify_settings()
    if settings.test_ses_faults and not getattr(client, "_taskport_faults", False):
        from workers.notifications import ses_faults

        ses_faults.install(client, state_client())
        client._taskport_faults = True
    return client


def dynamodb() -> Any:
    return aws_clients.client("dynamodb")


def kms() -> Any:
    return aws_clients.client("kms")


def table() -> Any:
    return aws_clients.table(notify_settings().table_name)


def webhook_client() -> httpx.Client:
    return _webhook_client(os.getpid())


@lru_cache(maxsize=1)
def _webhook_client(pid: int) -> httpx.Client:
    from workers.notifications.webhooks import network

    settings = notify_settings()
    resolver: ssrf.Resolver = ssrf.system_resolver
    if settings.test_dns_overrides:
        resolver = ssrf.overriding_resolver(settings.test_dns_overrides, resolver)
    return network.build_client(
        connect_timeout=settings.webhook_connect_timeout,
        read_timeout=settings.webhook_deadline_seconds,
        resolver=resolver,
        allow_loopback=settings.allow_loopback_webhooks,
        resolver_threads=settings.webhook_resolver_threads,
        resolves_per_tenant=settings.webhook_resolves_per_tenant,
    )
