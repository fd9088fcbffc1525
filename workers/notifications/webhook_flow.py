"""``notifications.send_webhook``: endpoint, cap, sign, deliver, record, retry decisions."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

from workers.contract import endpoint_store, keys
from workers.contract.endpoint_store import Endpoint
from workers.contract.notify_settings import notify_settings
from workers.contract.settings import core_settings
from workers.notifications import clients, ledger, retrying
from workers.notifications.errors import (
    WebhookDeliveryFailed,
    WebhookEndpointDisabled,
    WebhookEndpointGone,
    WebhookEndpointMissing,
)
from workers.notifications.webhooks import attempts, concurrency, delivery, signing
from workers.state_store import state_client

EFFECT = "webhook"

# Endpoint items and unsealed keys, per process: a KMS Decrypt per delivery would cost
# latency and money. Keys are cached by sealed data key, so a rotation is a cache miss.
_lock = threading.Lock()
_endpoints: dict[tuple[str, str], tuple[float, Endpoint | None]] = {}
_keys: dict[tuple[str, str, int, str], bytes] = {}


def _endpoint(tenant: str, endpoint_id: str) -> Endpoint | None:
    ttl = notify_settings().webhook_endpoint_cache_seconds
    now = time.monotonic()
    with _lock:
        cached = _endpoints.get((tenant, endpoint_id))
    if cached and cached[0] > now:
        return cached[1]
    ep = endpoint_store.get(clients.table(), tenant, endpoint_id)
    if ttl > 0:
        with _lock:
            _endpoints[(tenant, endpoint_id)] = (now + ttl, ep)
    return ep


def _forget(tenant: str, endpoint_id: str) -> None:
    with _lock:
        _endpoints.pop((tenant, endpoint_id), None)


def _signing_keys(ep: Endpoint) -> list[bytes]:
    now = time.time()
    found = []
    for version in sorted((s for s in ep.secrets if s.active(now)), key=lambda s: -s.version):
        cache_key = (ep.tenant, ep.id, version.version, version.sealed["key"])
        with _lock:
            key = _keys.get(cache_key)
        if key is None:
            key = endpoint_store.unseal_version(clients.kms(), ep, version)
            with _lock:
                if len(_keys) > 10_000:
                    _keys.clear()
                _keys[cache_key] = key
        found.append(key)
    return found


def body_of(event_type: str, payload: dict[str, Any], first_attempt_at: float) -> bytes:
    """Standard Webhooks' payload shape; identical bytes on every attempt."""
    stamp = datetime.fromtimestamp(first_attempt_at, UTC).isoformat().replace("+00:00", "Z")
    document = {"type": event_type, "timestamp": stamp, "data": payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _usable_endpoint(tenant: str, endpoint_id: str, event_type: str) -> Endpoint:
    ep = _endpoint(tenant, endpoint_id)
    if ep is None:
        raise WebhookEndpointMissing(f"no webhook endpoint {endpoint_id}")
    if ep.disabled:
        raise WebhookEndpointDisabled(f"endpoint {endpoint_id} is disabled: {ep.disabled_reason}")
    if not ep.accepts(event_type):
        raise WebhookDeliveryFailed(f"endpoint {endpoint_id} is not subscribed to {event_type}")
    return ep


def run(task: Any, endpoint_id: str, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    settings = notify_settings()
    redis = state_client()
    task_id = task.request.id
    tenant = task.tenant
    try:
        ep = _usable_endpoint(tenant, endpoint_id, event_type)
    except Exception:
        # A redelivery of a delivered message replays it even if the endpoint changed or
        # cannot be read right now (DynamoDB or KMS errors).
        done = ledger.recorded(redis, task_id, EFFECT)
        if done is not None:
            return {**done, "replayed": True}
        raise

    lease = settings.webhook_deadline_seconds + 15
    # The effect-ledger check and the slot are one round trip (cached endpoint: no other).
    claim = concurrency.acquire(
        redis,
        endpoint_id,
        task_id,
        cap=settings.webhook_endpoint_concurrency,
        lease_seconds=lease,
        done_key=keys.effect_ledger(task_id, EFFECT),
    )
    if isinstance(claim, str):
        return {**(ledger.parse(claim) or {}), "replayed": True}
    if not claim:
        delay = random.uniform(0.5, 2.0)  # noqa: S311
        retrying.again(task, delay=delay, counts_as_attempt=False, reason="endpoint busy")
    try:
        msg_id = signing.message_id(task_id)
        body = body_of(event_type, payload, retrying.first_attempt_at(task))
        headers = signing.headers(_signing_keys(ep), msg_id, int(time.time()), body)
        result = delivery.attempt(
            clients.webhook_client(),
            ep.url,
            body,
            headers,
            deadline_seconds=settings.webhook_deadline_seconds,
            max_response_bytes=settings.webhook_max_response_bytes,
            tenant=tenant,
        )
    except BaseException:
        concurrency.release(redis, endpoint_id, task_id)
        raise

    # Free the slot, record the attempt and (on success) the effect in one round trip.
    number = retrying.attempt(task) + 1
    pipe = redis.pipeline(transaction=False)
    concurrency.release(pipe, endpoint_id, task_id)
    attempts.add(
        pipe,
        tenant,
        endpoint_id,
        attempts.Attempt(
            task_id=task_id,
            webhook_id=msg_id,
            event_type=event_type,
            attempt=number,
            at=time.time(),
            outcome=result.outcome,
            status=result.status,
            latency_ms=result.latency_ms,
            error=result.error,
        ),
        kept=settings.webhook_attempts_kept,
        ttl=settings.webhook_attempts_ttl_seconds,
    )
    outcome = {
        "webhook_id": msg_id,
        "status": result.status,
        "attempts": number,
        "latency_ms": result.latency_ms,
    }
    if result.outcome == delivery.DELIVERED:
        ledger.record(pipe, task_id, EFFECT, outcome, core_settings().result_ttl_seconds)
    pipe.execute()
    if result.outcome == delivery.DELIVERED:
        return outcome
    if result.outcome == delivery.GONE:
        endpoint_store.disable(clients.table(), tenant, endpoint_id, "answered 410 Gone")
        _forget(tenant, endpoint_id)
        raise WebhookEndpointGone(f"endpoint {endpoint_id} answered 410 Gone and is disabled")
    if result.outcome != delivery.RETRY:
        raise WebhookDeliveryFailed(f"delivery to {endpoint_id} failed: {result.error}")
    next_delay = delivery.next_delay(
        settings.webhook_retry_schedule,
        number,
        result.retry_after,
        settings.webhook_retry_after_cap_seconds,
    )
    age = time.time() - retrying.first_attempt_at(task)
    if next_delay is None or age + next_delay > settings.webhook_max_age_seconds:
        raise WebhookDeliveryFailed(
            f"delivery to {endpoint_id} failed after {number} attempts: {result.error}"
        )
    retrying.again(task, delay=next_delay, counts_as_attempt=True, reason=result.error or "retry")
