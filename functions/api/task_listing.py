"""The tenant's recent tasks from the per-tenant indexes (no SCAN), newest first."""

from __future__ import annotations

import base64
import binascii
from typing import Any, cast

from functions.api.errors import ApiError
from functions.api.identity import Identity
from functions.api.task_reader import iso
from functions.shared.redis_client import producer_client
from workers import catalog
from workers.contract import keys, records


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        score, _, member = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(score), member
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400,
            "invalid_request",
            "cursor is not one this API returned",
            [{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        ) from None


def _encode_cursor(score: int, member: str) -> str:
    return base64.urlsafe_b64encode(f"{score}:{member}".encode()).decode()


def list_tasks(
    identity: Identity,
    state: str | None,
    task: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    if task is not None and task not in catalog.TASKS:
        raise ApiError(
            400,
            "unknown_task",
            f"unknown task '{task}'",
            [{"loc": ["query", "task"], "msg": "not a catalog task", "type": "value_error"}],
        )
    tenant = identity.tenant
    if state is not None:
        index = keys.tenant_state_index(tenant, state)
    elif task is not None:
        index = keys.tenant_task_index(tenant, task)
    else:
        index = keys.tenant_index(tenant)
    client = producer_client()
    top: str = "+inf"
    after_member = None
    if cursor:
        cursor_score, after_member = _decode_cursor(cursor)
        top = str(cursor_score)
    # Over-fetch to skip members sharing the cursor's score that were already returned,
    # and those filtered out by task when both filters are given.
    want = limit + 1
    fetched: list[tuple[str, float]] = cast(
        "list[tuple[str, float]]",
        client.zrevrangebyscore(index, top, "-inf", start=0, num=want * 4, withscores=True),
    )
    if after_member is not None:
        seen = [i for i, (m, s) in enumerate(fetched) if m == after_member]
        fetched = fetched[seen[0] + 1 :] if seen else fetched
    pipe = client.pipeline(transaction=False)
    for member, _ in fetched:
        pipe.hmget(
            keys.task_record(member),
            records.F_TASK,
            records.F_STATE,
            records.F_SUBMITTED,
            records.F_FINISHED,
        )
    rows = pipe.execute() if fetched else []
    items: list[dict[str, Any]] = []
    last: tuple[int, str] | None = None
    for (member, score), row in zip(fetched, rows, strict=True):
        name, st, submitted, finished = row
        if name is None or (task is not None and name != task):
            continue  # expired record or filtered out
        if len(items) == limit:
            break
        items.append(
            {
                "id": member,
                "task": name,
                "state": st,
                "submitted": iso(submitted),
                "finished": iso(finished),
            }
        )
        last = (int(score), member)
    has_more = len(items) == limit and len(fetched) > len(items)
    next_cursor = _encode_cursor(*last) if (has_more and last) else None
    return {"items": items, "next_cursor": next_cursor}
