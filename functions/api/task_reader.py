"""Read a task's state: the taskport record and Celery's result, in one round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from functions.api.errors import not_found
from functions.api.identity import Identity
from functions.shared.redis_client import producer_client
from workers.contract import keys, records


def iso(epoch: str | float | None) -> str | None:
    if epoch in (None, ""):
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat().replace("+00:00", "Z")


def _bounded(text: str, limit: int = records.MAX_ERROR_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_from_meta(result: Any) -> dict[str, str]:
    """Celery's serialized exception -> {type, message}; never a traceback."""
    if isinstance(result, dict):
        exc_type = str(result.get("exc_type") or "Error")
        message = result.get("exc_message")
        if isinstance(message, list | tuple):
            message = " ".join(str(m) for m in message)
        return {"type": exc_type, "message": _bounded(str(message or ""))}
    return {"type": "Error", "message": _bounded(str(result or ""))}


def load(task_id: str) -> tuple[dict[str, str], dict[str, Any] | None]:
    pipe = producer_client().pipeline(transaction=False)
    pipe.hgetall(keys.task_record(task_id))
    pipe.get(keys.celery_meta(task_id))
    record, meta_raw = pipe.execute()
    return record, (json.loads(meta_raw) if meta_raw else None)


def visible_record(
    identity: Identity, task_id: str
) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The record if the caller may see it; unknown, expired and foreign ids are all 404."""
    record, meta = load(task_id)
    if not record or not identity.can_read(record.get(records.F_TENANT, "")):
        raise not_found()
    return record, meta


def current_state(record: dict[str, str], meta: dict[str, Any] | None) -> str:
    # Celery's final states are authoritative; the record carries PENDING/PROGRESS/REVOKED
    # set by taskport itself (a cancel of a queued task has no Celery result yet).
    state = record.get(records.F_STATE, records.PENDING)
    if state in records.FINAL_STATES:
        return state
    meta_state = (meta or {}).get("status")
    if meta_state in records.FINAL_STATES:
        return str(meta_state)
    return state


def view(task_id: str, record: dict[str, str], meta: dict[str, Any] | None) -> dict[str, Any]:
    state = current_state(record, meta)
    out: dict[str, Any] = {
        "id": task_id,
        "task": record.get(records.F_TASK, ""),
        "queue": record.get(records.F_QUEUE, ""),
        "state": state,
        "progress": None,
        "result": None,
        "error": None,
        "submitted": iso(record.get(records.F_SUBMITTED)),
        "started": iso(record.get(records.F_STARTED)),
        "finished": iso(record.get(records.F_FINISHED)),
        "attempts": int(record.get(records.F_ATTEMPTS) or 0),
    }
    if records.F_PROGRESS_PERCENT in record:
        out["progress"] = {
            "percent": float(record[records.F_PROGRESS_PERCENT]),
            "message": record.get(records.F_PROGRESS_MESSAGE, ""),
        }
    if state == records.SUCCESS and meta is not None:
        out["result"] = meta.get("result")
        if out["progress"] is not None:
            out["progress"] = {"percent": 100.0, "message": out["progress"]["message"]}
    elif (state == records.FAILURE and meta is not None) or (
        state == records.RETRY and meta is not None
    ):
        out["error"] = error_from_meta(meta.get("result"))
    elif state == records.REVOKED:
        out["error"] = {"type": "TaskRevokedError", "message": "cancelled"}
    if out["finished"] is None and meta is not None and state in records.FINAL_STATES:
        done = meta.get("date_done")
        out["finished"] = done.replace("+00:00", "Z") if isinstance(done, str) else None
    return out


def read(identity: Identity, task_id: str) -> dict[str, Any]:
    record, meta = visible_record(identity, task_id)
    return view(task_id, record, meta)
