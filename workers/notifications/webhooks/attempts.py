"""Delivery attempt records: newest first per endpoint, capped and expiring (Redis list).

Read by ``GET /v1/webhooks/endpoints/{id}/deliveries`` (tenant-scoped key).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from workers.contract import keys


@dataclass(frozen=True)
class Attempt:
    task_id: str
    webhook_id: str
    event_type: str
    attempt: int
    at: float
    outcome: str  # delivered | retry | failed | gone | blocked
    status: int | None
    latency_ms: float
    error: str | None


def add(pipe: Any, tenant: str, endpoint_id: str, attempt: Attempt, *, kept: int, ttl: int) -> None:
    """Queue the record on ``pipe`` (the caller executes it with its other writes)."""
    key = keys.webhook_attempts(tenant, endpoint_id)
    pipe.lpush(key, json.dumps(asdict(attempt), separators=(",", ":")))
    pipe.ltrim(key, 0, kept - 1)
    pipe.expire(key, ttl)


def record(
    client: Any, tenant: str, endpoint_id: str, attempt: Attempt, *, kept: int, ttl: int
) -> None:
    pipe = client.pipeline(transaction=False)
    add(pipe, tenant, endpoint_id, attempt, kept=kept, ttl=ttl)
    pipe.execute()


def recent(client: Any, tenant: str, endpoint_id: str, limit: int = 50) -> list[dict[str, Any]]:
    raw = client.lrange(keys.webhook_attempts(tenant, endpoint_id), 0, limit - 1)
    return [json.loads(item) for item in raw]
