"""The one route table: the API handler, the CDK HTTP API and the local gateway read it.

Paths are written the API Gateway way (``/v1/tasks/{id}``); ``powertools_path`` converts
them to the resolver's ``<id>`` form in this one place. A route's ``scopes`` are
alternatives (API Gateway grants a route when the token holds any of them), written
without the issuer prefix; ``()`` means no authorizer. Pure data: no heavy imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workers.contract import scopes

_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    scopes: tuple[str, ...]
    operation_id: str
    summary: str

    @property
    def route_key(self) -> str:
        """API Gateway's ``routeKey`` for this route, e.g. ``GET /v1/tasks/{id}``."""
        return f"{self.method} {self.path}"

    @property
    def powertools_path(self) -> str:
        return _PARAM.sub(r"<\1>", self.path)

    @property
    def public(self) -> bool:
        return not self.scopes

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters if ``method path`` is this route, as API Gateway would set them."""
        if method.upper() != self.method:
            return None
        found = _pattern(self.path).match(path)
        return found.groupdict() if found else None


def _pattern(path: str) -> re.Pattern[str]:
    segments = []
    for segment in path.split("/"):
        param = _PARAM.fullmatch(segment)
        segments.append(f"(?P<{param.group(1)}>[^/]+)" if param else re.escape(segment))
    return re.compile("^" + "/".join(segments) + "$")


def _r(method: str, path: str, scope: str | None, operation_id: str, summary: str) -> Route:
    # admin may call every authorized route.
    granted = () if scope is None else tuple(dict.fromkeys((scope, scopes.ADMIN)))
    return Route(
        method=method, path=path, scopes=granted, operation_id=operation_id, summary=summary
    )


ROUTES: tuple[Route, ...] = (
    _r("GET", "/v1/health", None, "health", "Liveness"),
    _r("GET", "/v1/openapi.json", None, "openapi", "The OpenAPI document"),
    _r("GET", "/v1/docs", None, "docs", "Swagger UI"),
    _r("GET", "/v1/catalog", scopes.TASKS_READ, "catalog", "Submittable tasks"),
    _r("POST", "/v1/tasks", scopes.TASKS_WRITE, "submit_task", "Submit a task"),
    _r("POST", "/v1/tasks/batch", scopes.TASKS_WRITE, "submit_batch", "Submit several tasks"),
    _r("GET", "/v1/tasks", scopes.TASKS_READ, "list_tasks", "The tenant's recent tasks"),
    _r("GET", "/v1/tasks/{id}", scopes.TASKS_READ, "get_task", "A task's state"),
    _r("POST", "/v1/tasks/{id}/cancel", scopes.TASKS_WRITE, "cancel_task", "Cancel a task"),
    _r("POST", "/v1/schedules/{name}/fire", scopes.ADMIN, "fire_schedule", "Fire a schedule now"),
    _r(
        "POST",
        "/v1/webhooks/endpoints",
        scopes.WEBHOOKS_WRITE,
        "create_endpoint",
        "Register a webhook endpoint",
    ),
    _r(
        "GET",
        "/v1/webhooks/endpoints",
        scopes.WEBHOOKS_WRITE,
        "list_endpoints",
        "List webhook endpoints",
    ),
    _r(
        "GET",
        "/v1/webhooks/endpoints/{id}",
        scopes.WEBHOOKS_WRITE,
        "get_endpoint",
        "A webhook endpoint",
    ),
    _r(
        "DELETE",
        "/v1/webhooks/endpoints/{id}",
        scopes.WEBHOOKS_WRITE,
        "delete_endpoint",
        "Delete a webhook endpoint",
    ),
    _r(
        "POST",
        "/v1/webhooks/endpoints/{id}/rotate-secret",
        scopes.WEBHOOKS_WRITE,
        "rotate_endpoint_secret",
        "Rotate an endpoint's signing secret",
    ),
    _r(
        "GET",
        "/v1/webhooks/endpoints/{id}/deliveries",
        scopes.WEBHOOKS_WRITE,
        "list_deliveries",
        "Recent delivery attempts",
    ),
)

# A catch-all without authorizer so unknown paths get taskport's 404, not API Gateway's.
DEFAULT_ROUTE_KEY = "$default"


def by_operation(operation_id: str) -> Route:
    return next(r for r in ROUTES if r.operation_id == operation_id)


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route API Gateway would pick for ``method path`` and its path parameters.

    Literal segments win over parameters (``/v1/tasks/batch`` before ``/v1/tasks/{id}``),
    as in API Gateway's matching.
    """
    candidates = []
    for route in ROUTES:
        params = route.match(method, path)
        if params is not None:
            candidates.append((len(params), route, params))
    if not candidates:
        return None
    _, route, params = min(candidates, key=lambda c: c[0])
    return route, params
