"""What the webhook endpoint routes do: SSRF check, the sealed-secret store, delivery log.

Imported by those routes on first use, not with the API: POST /v1/tasks never needs the
endpoint store, the notification settings or the AWS clients, and a cold start should not
load them. Every read is scoped to the caller's tenant.
"""

from __future__ import annotations

import json
from typing import Any

from functions.api.errors import ApiError
from functions.shared.redis_client import producer_client
from workers.contract import aws_clients, endpoint_store, keys, ssrf
from workers.contract.notify_settings import NotificationSettings, notify_settings


def _resolver(settings: NotificationSettings) -> ssrf.Resolver:
    if settings.test_dns_overrides:
        return ssrf.overriding_resolver(settings.test_dns_overrides, ssrf.system_resolver)
    return ssrf.system_resolver


def _check_url(url: str, settings: NotificationSettings) -> None:
    try:
        ssrf.check_url(
            url,
            allowed_ports=settings.webhook_ports,
            resolver=_resolver(settings),
            allow_loopback=settings.allow_loopback_webhooks,
        )
    except ssrf.UnsafeWebhookURL as exc:
        raise ApiError(
            400,
            "unsafe_url",
            "the webhook URL is not allowed",
            [{"loc": ["body", "url"], "msg": str(exc), "type": exc.reason}],
        ) from None


def _table(settings: NotificationSettings) -> Any:
    return aws_clients.table(settings.table_name)


def _owned(
    tenant: str, endpoint_id: str, settings: NotificationSettings
) -> endpoint_store.Endpoint:
    found = endpoint_store.get(_table(settings), tenant, endpoint_id)
    if found is None:
        raise ApiError(404, "not_found", "webhook endpoint not found")
    return found


def create(tenant: str, url: str, description: str, event_types: list[str]) -> dict[str, Any]:
    """Register an endpoint; the answer carries its ``whsec_...`` secret, shown only here."""
    settings = notify_settings()
    _check_url(url, settings)
    endpoint, secret = endpoint_store.create(
        _table(settings),
        aws_clients.client("kms"),
        settings.kms_key_id,
        tenant=tenant,
        url=url,
        description=description,
        event_types=event_types,
    )
    return {**endpoint.public(), "secret": secret}


def list_all(tenant: str) -> dict[str, Any]:
    found = endpoint_store.list_endpoints(_table(notify_settings()), tenant)
    return {"endpoints": [e.public() for e in found]}


def get(tenant: str, endpoint_id: str) -> dict[str, Any]:
    return _owned(tenant, endpoint_id, notify_settings()).public()


def delete(tenant: str, endpoint_id: str) -> None:
    if not endpoint_store.delete(_table(notify_settings()), tenant, endpoint_id):
        raise ApiError(404, "not_found", "webhook endpoint not found")


def rotate_secret(tenant: str, endpoint_id: str) -> dict[str, Any]:
    """A new secret; the old one stays valid for the configured grace period."""
    settings = notify_settings()
    endpoint = _owned(tenant, endpoint_id, settings)
    try:
        updated, secret = endpoint_store.rotate(
            _table(settings),
            aws_clients.client("kms"),
            settings.kms_key_id,
            endpoint,
            grace_seconds=settings.webhook_secret_grace_seconds,
        )
    except endpoint_store.EndpointChanged:
        raise ApiError(
            409,
            "endpoint_changed",
            "the endpoint was deleted or its secret rotated by another call; read it and retry",
        ) from None
    previous = [s.expires for s in updated.secrets if s.expires is not None]
    return {
        "id": endpoint_id,
        "secret": secret,
        "previous_valid_until": max(previous, default=None),
    }


def deliveries(tenant: str, endpoint_id: str, limit: int) -> dict[str, Any]:
    """The endpoint's most recent delivery attempts, newest first."""
    _owned(tenant, endpoint_id, notify_settings())
    raw = producer_client().lrange(keys.webhook_attempts(tenant, endpoint_id), 0, limit - 1)
    return {"deliveries": [json.loads(item) for item in raw]}
