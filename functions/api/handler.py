"""Lambda entry point for the HTTP API (``functions/api/handler.py:handler``).

Import stays light for cold starts: no Redis connection and no settings parse here; the
Redis client is created on the first request that needs it, and routes other than
POST /v1/tasks are registered on the first request that may need them.
"""

from __future__ import annotations

from typing import Any

from functions.api.app import app, prepare_routes, reject_before_routing


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rejected = reject_before_routing(event)
    if rejected is not None:
        return rejected
    prepare_routes(event)
    return app.resolve(event, context)
