"""Enqueue a catalog task by name: owner record, indexes and message in one round trip.

Used by the API (submit, batch, manual schedule fires), the scheduler and the events
handler. Never imports task code: the message is built from the catalog entry alone.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workers.catalog import TaskSpec
from workers.contract import keys, scripts
from workers.contract.headers import TENANT_HEADER
from workers.contract.message import build_envelope, new_task_id, queue_list_key
from workers.contract.settings import core_settings

if TYPE_CHECKING:
    import redis


@dataclass(frozen=True)
class Enqueue:
    """One task to enqueue. ``dedup_key``: an idempotency/de-duplication key (full name)."""

    spec: TaskSpec
    kwargs: dict[str, Any]
    tenant: str
    countdown: float | None = None
    dedup_key: str | None = None
    dedup_ttl: int = 0
    # Stored under dedup_key; {id} is replaced by the new task id.
    dedup_value: dict[str, Any] | None = None


@dataclass(frozen=True)
class Enqueued:
    task_id: str
    # The value stored under the dedup key by an earlier call (nothing was enqueued now).
    previous: dict[str, Any] | None


def _call_args(item: Enqueue, task_id: str, now: float) -> tuple[list[str], list[Any]]:
    settings = core_settings()
    envelope = build_envelope(
        task_name=item.spec.name,
        task_id=task_id,
        queue=item.spec.queue,
        kwargs=item.kwargs,
        headers={TENANT_HEADER: item.tenant},
        countdown=item.countdown,
    )
    dedup_value = ""
    if item.dedup_key:
        dedup_value = json.dumps({**(item.dedup_value or {}), "id": task_id}, separators=(",", ":"))
    script_keys = [
        keys.task_record(task_id),
        keys.tenant_index(item.tenant),
        keys.tenant_state_index(item.tenant, "PENDING"),
        keys.tenant_task_index(item.tenant, item.spec.name),
        queue_list_key(item.spec.queue),
        item.dedup_key or "",
    ]
    argv = [
        task_id,
        item.tenant,
        item.spec.name,
        item.spec.queue,
        f"{now:.6f}",
        int(now * 1000),
        settings.result_ttl_seconds,
        envelope,
        item.dedup_ttl,
        dedup_value,
    ]
    return script_keys, argv


def _script(client: redis.Redis) -> Any:
    # register_script: EVALSHA, falling back to loading the script once per connection.
    cached = getattr(client, "_taskport_submit", None)
    if cached is None:
        cached = client.register_script(scripts.SUBMIT)
        client._taskport_submit = cached  # type: ignore[attr-defined]
    return cached


def enqueue(client: redis.Redis, item: Enqueue) -> Enqueued:
    task_id = new_task_id()
    script_keys, argv = _call_args(item, task_id, time.time())
    previous = _script(client)(keys=script_keys, args=argv)
    return Enqueued(task_id, json.loads(previous) if previous else None)


def enqueue_many(client: redis.Redis, items: list[Enqueue]) -> list[Enqueued]:
    """Several enqueues in one pipelined round trip."""
    script = _script(client)
    now = time.time()
    ids = [new_task_id() for _ in items]
    pipe = client.pipeline(transaction=False)
    for item, task_id in zip(items, ids, strict=True):
        script_keys, argv = _call_args(item, task_id, now)
        script(keys=script_keys, args=argv, client=pipe)
    results = pipe.execute()
    return [
        Enqueued(task_id, json.loads(prev) if prev else None)
        for task_id, prev in zip(ids, results, strict=True)
    ]
