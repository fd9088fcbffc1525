"""Turn request validation errors into taskport's 400 (never echoing the client's input)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.api.errors import ApiError
from workers import catalog


def _detail(error: dict[str, Any]) -> dict[str, Any]:
    # Only loc/msg/type: pydantic's ``input`` and ``url`` would echo the client's data.
    # The discriminated union puts the task name in the path; the field path omits it.
    loc = [p for p in error.get("loc", ()) if not (isinstance(p, str) and p in catalog.TASKS)]
    return {
        "loc": [str(p) if not isinstance(p, int) else p for p in loc],
        "msg": str(error.get("msg") or error.get("type") or "invalid"),
        "type": str(error.get("type") or "invalid"),
    }


def validation_error(errors: Sequence[Any]) -> ApiError:
    details = [_detail(dict(e)) for e in errors]
    valid = ", ".join(sorted(t.name for t in catalog.submittable()))
    for error in details:
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            # The discriminator: an unknown or missing task name.
            error["msg"] = f"unknown task; valid tasks: {valid}"
            return ApiError(
                400, "unknown_task", f"unknown or missing task; valid tasks: {valid}", details
            )
        if error["type"] == "json_invalid":
            return ApiError(400, "invalid_json", "the request body is not valid JSON", details)
    where = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in details[:5])
    return ApiError(400, "invalid_request", f"invalid request: {where}", details)
