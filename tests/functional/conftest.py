"""In-process API/scheduler handler drivers on a real Redis (no worker)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent.parent / "events"
ALL_SCOPES = "taskport/tasks:write taskport/tasks:read taskport/webhooks:write taskport/ops:read"


class LambdaContext:
    function_name = "taskport-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:taskport-api"
    aws_request_id = "test-request"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


def reset_settings() -> None:
    """Settings and the Redis client are cached per process; tests switch servers."""
    from functions.shared.redis_client import _password, producer_client
    from workers.contract.settings import core_settings

    core_settings.cache_clear()
    producer_client.cache_clear()
    _password.cache_clear()


class ApiClient:
    """Calls the real API handler with payload-v2 events shaped like API Gateway's."""

    def __init__(self, tenant: str = "acme", scope: str = ALL_SCOPES) -> None:
        self.tenant = tenant
        self.scope = scope

    def as_tenant(self, tenant: str, scope: str | None = None) -> ApiClient:
        return ApiClient(tenant, self.scope if scope is None else scope)

    def event(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        raw_body: str | None = None,
    ) -> dict[str, Any]:
        from functions.api.routes import resolve

        event = copy.deepcopy(load_event("http_api_v2_submit_echo.json"))
        found = resolve(method, path)
        event["routeKey"] = found[0].route_key if found else "$default"
        if found and found[1]:
            event["pathParameters"] = found[1]
        event["rawPath"] = path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["http"]["path"] = path
        event["requestContext"]["routeKey"] = event["routeKey"]
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        claims["tenant"] = self.tenant
        claims["scope"] = self.scope
        if query:
            event["queryStringParameters"] = query
            event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        if headers:
            event["headers"].update({k.lower(): v for k, v in headers.items()})
        if raw_body is not None:
            event["body"] = raw_body
        elif body is None:
            event.pop("body", None)
        else:
            event["body"] = json.dumps(body)
        return event

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        from functions.api.handler import handler

        result = handler(self.event(method, path, **kwargs), LambdaContext())
        text = result.get("body") or ""
        body = json.loads(text) if text and text[0] in "{[" else text
        return ApiResponse(result["statusCode"], body, result.get("headers") or {})

    def submit(self, task: str, args: dict[str, Any], **kwargs: Any) -> ApiResponse:
        return self.call("POST", "/v1/tasks", body={"task": task, "args": args}, **kwargs)


@pytest.fixture
def api(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiClient]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    yield ApiClient()
    reset_settings()
