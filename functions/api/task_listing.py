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


_PAGE = 100
_MAX_SCAN = 1_000


def _page_after(
    client: Any, index: str, position: tuple[int, str] | None, size: int = _PAGE
) -> list[tuple[str, float]]:
    """Index entries after ``position`` (score, member), newest first.

    Entries sharing a score come in descending member order, so those at the position's
    score with a member >= the position's were seen already.
    """
    top = "+inf" if position is None else str(position[0])
    want = size
    while True:
        raw = cast(
            "list[tuple[str, float]]",
            client.zrevrangebyscore(index, top, "-inf", start=0, num=want, withscores=True),
        )
        if position is None:
            return raw
        fresh = [(m, s) for m, s in raw if not (int(s) == position[0] and m >= position[1])]
        if fresh or len(raw) < want:
            return fresh[:size]
        want *= 2  # a page of nothing but ties at the position's score: look further


def _records(client: Any, page: list[tuple[str, float]]) -> list[list[str | None]]:
    pipe = client.pipeline(transaction=False)
    for member, _ in page:
        pipe.hmget(
            keys.task_record(member),
            records.F_TENANT,
            records.F_TASK,
            records.F_STATE,
            records.F_SUBMITTED,
            records.F_FINISHED,
        )
    return cast("list[list[str | None]]", pipe.execute())


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
    position = _decode_cursor(cursor) if cursor else None
    items: list[dict[str, Any]] = []
    scanned = 0
    exhausted = False
    # Scan newest first, a page at a time, until ``limit`` items match (a task filter on
    # top of a state index can skip many) or a bounded number of entries was scanned; the
    # cursor is the last entry *scanned*, so paging never skips or repeats a match.
    while len(items) < limit and scanned < _MAX_SCAN:
        page = _page_after(client, index, position)
        if not page:
            exhausted = True
            break
        for (member, score), row in zip(page, _records(client, page), strict=True):
            position = (int(score), member)
            scanned += 1
            owner, name, st, submitted, finished = row
            # Expired records, other tenants' (defence in depth) and filtered-out tasks.
            if name is None or owner != tenant or (task is not None and name != task):
                continue
            items.append(
                {
                    "id": member,
                    "task": name,
                    "state": st,
                    "submitted": iso(submitted),
                    "finished": iso(finished),
                }
            )
            if len(items) == limit:
                break
    if not exhausted and position is not None and _page_after(client, index, position, 1):
        next_cursor = _encode_cursor(*position)
    else:
        next_cursor = None
    return {"items": items, "next_cursor": next_cursor}
