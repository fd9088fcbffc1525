"""Submit one or several catalog tasks for a tenant (validation already done by models)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.api.errors import ApiError
from functions.api.identity import Identity
from functions.shared.enqueue import Enqueue, enqueue, enqueue_many
from functions.shared.redis_client import producer_client
from workers import catalog
from workers.contract import keys
from workers.contract.headers import IDEMPOTENCY_HEADER
from workers.contract.settings import core_settings


def links(task_id: str) -> dict[str, str]:
    return {"self": f"/v1/tasks/{task_id}", "cancel": f"/v1/tasks/{task_id}/cancel"}


def accepted(task_id: str, task: str) -> dict[str, Any]:
    return {"id": task_id, "task": task, "state": "PENDING", "links": links(task_id)}


def _spec_for(identity: Identity, task: str) -> catalog.TaskSpec:
    spec = catalog.TASKS[task]
    if spec.scope is None:  # pragma: no cover - the request model only admits submittable tasks
        raise ApiError(400, "unknown_task", f"task '{task}' cannot be submitted")
    identity.require(spec.scope)
    return spec


def _countdown(value: float | None) -> float | None:
    if value is None:
        return None
    limit = core_settings().max_countdown_seconds
    if value > limit:
        raise ApiError(
            400,
            "invalid_request",
            f"countdown must be at most {limit} s (below the visibility timeout)",
            [
                {
                    "loc": ["body", "countdown"],
                    "msg": f"must be <= {limit}",
                    "type": "less_than_equal",
                }
            ],
        )
    return value


def body_fingerprint(raw: Any) -> str:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit(
    identity: Identity,
    task: str,
    args: dict[str, Any],
    countdown: float | None,
    idempotency_key: str | None,
    raw_body: Any,
) -> dict[str, Any]:
    spec = _spec_for(identity, task)
    item = Enqueue(spec=spec, kwargs=args, tenant=identity.tenant, countdown=_countdown(countdown))
    fingerprint = None
    if idempotency_key is not None:
        # Its shape (1-255 printable ASCII) is checked by the route's header schema.
        fingerprint = body_fingerprint(raw_body)
        item = Enqueue(
            spec=spec,
            kwargs=args,
            tenant=identity.tenant,
            countdown=item.countdown,
            # Keys are tenant-scoped: two tenants may use the same key.
            dedup_key=keys.idempotency(identity.tenant, idempotency_key),
            dedup_ttl=core_settings().idempotency_ttl_seconds,
            dedup_value={"fingerprint": fingerprint, "task": spec.name},
        )
    done = enqueue(producer_client(), item)
    if done.previous is None:
        return accepted(done.task_id, spec.name)
    if done.previous.get("fingerprint") != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
            [
                {
                    "loc": ["header", IDEMPOTENCY_HEADER],
                    "msg": "reused with another body",
                    "type": "conflict",
                }
            ],
        )
    return accepted(done.previous["id"], done.previous["task"])


def submit_batch(identity: Identity, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Each item is validated on its own; valid ones are enqueued in one round trip."""
    results: list[dict[str, Any]] = [{"index": i} for i in range(len(items))]
    to_send: list[tuple[int, Enqueue]] = []
    for index, entry in enumerate(items):
        try:
            spec = _spec_for(identity, entry["task"])
            to_send.append(
                (
                    index,
                    Enqueue(
                        spec=spec,
                        kwargs=entry["args"],
                        tenant=identity.tenant,
                        countdown=_countdown(entry.get("countdown")),
                    ),
                )
            )
        except ApiError as exc:
            results[index]["error"] = exc.body()["error"]
    if to_send:
        done = enqueue_many(producer_client(), [item for _, item in to_send])
        for (index, item), sent in zip(to_send, done, strict=True):
            results[index].update(accepted(sent.task_id, item.spec.name))
    accepted_count = sum(1 for r in results if "id" in r)
    return {"items": results, "accepted": accepted_count, "rejected": len(items) - accepted_count}
