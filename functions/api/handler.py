"""Lambda entry point for the HTTP API (``functions/api/handler.py:handler``).

Import stays light for cold starts: no Redis connection and no settings parse here; the
Redis client is created on the first request that needs it.
"""

from __future__ import annotations

from typing import Any

from functions.api.app import app, body_too_large


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        too_large = body_too_large(event)
    except Exception:
        too_large = None
    if too_large is not None:
        return too_large
    return app.resolve(event, context)
