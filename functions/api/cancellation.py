"""Cooperative, durable cancel: a Redis flag every worker checks before running a task
and at each checkpoint, so it survives restarts of every worker (no in-memory revoke list).
"""

from __future__ import annotations

import time
from typing import Any

from functions.api.errors import ApiError, not_found
from functions.api.identity import Identity
from functions.api.task_reader import visible_record
from functions.shared.redis_client import producer_client
from workers.contract import keys, records, scripts
from workers.contract.settings import core_settings


def _script(client: Any) -> Any:
    # EVALSHA, loading the script once per client (as enqueue does).
    cached = getattr(client, "_taskport_cancel", None)
    if cached is None:
        cached = client.register_script(scripts.CANCEL)
        client._taskport_cancel = cached
    return cached


def cancel(identity: Identity, task_id: str) -> dict[str, Any]:
    record, _ = visible_record(identity, task_id)  # 404: unknown, expired, another's
    if not identity.can_change(record.get(records.F_TENANT, "")):
        raise ApiError(403, "forbidden", "only admin may cancel system tasks")
    client = producer_client()
    before = _script(client)(
        keys=[keys.task_record(task_id), keys.celery_meta(task_id), keys.cancel_flag(task_id)],
        args=[task_id, f"{time.time():.6f}", core_settings().result_ttl_seconds, keys.INDEX_PREFIX],
    )
    if not before:
        raise not_found()
    if before in (records.SUCCESS, records.FAILURE):
        raise ApiError(409, "already_finished", f"task already finished ({before})")
    # A queued task is REVOKED now; a running one stops at its next checkpoint.
    state = (
        records.REVOKED if before in (records.PENDING, records.RETRY, records.REVOKED) else before
    )
    return {"id": task_id, "state": state}
