"""API Gateway HTTP API (payload v2) events for the real API handler, as AWS builds them.

Starts from the sample event in ``tests/events/`` and sets what API Gateway sets per call:
``routeKey`` and ``pathParameters`` from the shared route table, ``rawPath``, the HTTP
method/path, and the JWT claims as **strings** (``scope`` space-separated, with the
issuer's ``taskport/`` prefix).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.polling import wait_for
from workers.contract import scopes
from workers.contract.headers import TENANT_CLAIM

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
SAMPLE_EVENT = "http_api_v2_submit_echo.json"


def scope_claim(*names: str, prefix: str = scopes.DEFAULT_PREFIX) -> str:
    """The ``scope`` claim as HTTP API passes it: one space-separated string."""
    return " ".join(prefix + name for name in names)


@cache
def _sample() -> dict[str, Any]:
    return json.loads((EVENTS_DIR / SAMPLE_EVENT).read_text())


def build_event(
    method: str,
    path: str,
    *,
    tenant: str = "acme",
    scope: str = scope_claim(scopes.TASKS_WRITE, scopes.TASKS_READ),
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One payload-v2 event; an unknown path gets API Gateway's ``$default`` route."""
    from functions.api.routes import DEFAULT_ROUTE_KEY, resolve

    event = copy.deepcopy(_sample())
    found = resolve(method, path)
    route_key = found[0].route_key if found else DEFAULT_ROUTE_KEY
    event["routeKey"] = route_key
    event["rawPath"] = path
    event.pop("pathParameters", None)
    if found and found[1]:
        event["pathParameters"] = dict(found[1])
    context = event["requestContext"]
    context["routeKey"] = route_key
    context["http"]["method"] = method
    context["http"]["path"] = path
    claims = context["authorizer"]["jwt"]["claims"]
    claims[TENANT_CLAIM] = tenant
    claims["scope"] = scope
    if query:
        event["queryStringParameters"] = dict(query)
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    if body is None:
        event.pop("body", None)
        event["headers"].pop("content-length", None)
    else:
        text = body if isinstance(body, str) else json.dumps(body)
        event["body"] = text
        event["headers"]["content-length"] = str(len(text.encode()))
    return event


class LambdaContext:
    """The attributes Powertools' ``inject_lambda_context`` reads."""

    function_name = "taskport-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:taskport-api"
    aws_request_id = "e2e-request"


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ApiCaller:
    """Calls ``functions/api/handler.py:handler`` in-process as one tenant."""

    tenant: str = "acme"
    scope: str = scope_claim(scopes.TASKS_WRITE, scopes.TASKS_READ)

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        from functions.api.handler import handler

        event = build_event(method, path, tenant=self.tenant, scope=self.scope, **kwargs)
        result = handler(event, LambdaContext())
        text = result.get("body") or ""
        body = json.loads(text) if text[:1] in ("{", "[") else text
        return ApiResponse(result["statusCode"], body, result.get("headers") or {})

    def submit(self, task: str, args: dict[str, Any], **body: Any) -> ApiResponse:
        return self.call("POST", "/v1/tasks", body={"task": task, "args": args, **body})

    def get(self, task_id: str) -> ApiResponse:
        return self.call("GET", f"/v1/tasks/{task_id}")

    def cancel(self, task_id: str) -> ApiResponse:
        return self.call("POST", f"/v1/tasks/{task_id}/cancel")

    def wait_for_state(self, task_id: str, *states: str, timeout: float) -> dict[str, Any]:
        """Poll GET /v1/tasks/{id} until the task is in one of ``states``; its body."""

        def probe() -> dict[str, Any] | None:
            response = self.get(task_id)
            assert response.status == 200, response
            return response.body if response.body["state"] in states else None

        return wait_for(probe, timeout=timeout, what=f"task {task_id} in {states}")


def reset_api_settings() -> None:
    """The handler caches settings and its Redis client per process; call after switching
    ``REDIS_URL`` (or any other setting) between tests."""
    from functions.shared.redis_client import _password, producer_client
    from workers.contract.settings import core_settings

    core_settings.cache_clear()
    producer_client.cache_clear()
    _password.cache_clear()
