"""In-process API/scheduler handler drivers on a real Redis (no worker)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api_events import (
    EVENTS_DIR,
    ApiResponse,
    LambdaContext,
    build_event,
    reset_api_settings,
    scope_claim,
)
from workers.contract import scopes

ALL_SCOPES = scope_claim(
    scopes.TASKS_WRITE, scopes.TASKS_READ, scopes.WEBHOOKS_WRITE, scopes.OPS_READ
)
reset_settings = reset_api_settings

__all__ = [
    "ALL_SCOPES",
    "ApiClient",
    "ApiResponse",
    "LambdaContext",
    "load_event",
    "reset_settings",
]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


class ApiClient:
    """Calls the real API handler with payload-v2 events shaped like API Gateway's."""

    def __init__(self, tenant: str = "acme", scope: str = ALL_SCOPES) -> None:
        self.tenant = tenant
        self.scope = scope

    def as_tenant(self, tenant: str, scope: str | None = None) -> ApiClient:
        return ApiClient(tenant, self.scope if scope is None else scope)

    def event(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return build_event(method, path, tenant=self.tenant, scope=self.scope, **kwargs)

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        from functions.api.handler import handler

        result = handler(self.event(method, path, **kwargs), LambdaContext())
        text = result.get("body") or ""
        body = json.loads(text) if text[:1] in ("{", "[") else text
        return ApiResponse(result["statusCode"], body, result.get("headers") or {})

    def submit(self, task: str, args: dict[str, Any], **kwargs: Any) -> ApiResponse:
        return self.call("POST", "/v1/tasks", body={"task": task, "args": args}, **kwargs)


@pytest.fixture
def api(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiClient]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    yield ApiClient()
    reset_settings()
