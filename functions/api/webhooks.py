"""Webhook endpoint routes (``taskport/webhooks:write``): register, list, get, delete,
rotate the signing secret, and read recent delivery attempts.

The URL passes the SSRF guard at registration (the workers check again at every connect).
The ``whsec_...`` secret is returned once, at creation and rotation; it is stored sealed
with KMS and never logged or returned again. Every read is scoped to the caller's tenant:
another tenant's endpoint id answers 404 like an unknown one.

Wire with ``from functions.api.webhooks import router as webhooks_router`` and
``app.include_router(webhooks_router)``. The routes are thin: the work is in
``functions.api.webhook_endpoints``, imported on a webhook route's first call so the
submit path's cold start never loads the endpoint store, its settings or AWS clients.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field

from functions.api.errors import ErrorResponse
from functions.api.identity import Identity, identity_from_event
from functions.api.routes import by_operation
from workers.contract import scopes
from workers.contract.lazy_model import LazyModel
from workers.contract.ssrf import MAX_URL_LENGTH

router = Router()

EVENT_TYPE_PATTERN = r"^[A-Za-z0-9_.:-]{1,100}$"


class _Model(LazyModel):
    model_config = ConfigDict(extra="forbid")


class EndpointCreate(_Model):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, description="http(s) URL")
    description: str = Field(default="", max_length=500)
    event_types: list[Annotated[str, Field(pattern=EVENT_TYPE_PATTERN)]] = Field(
        default_factory=list, max_length=50, description="Empty: every event type"
    )


class EndpointView(_Model):
    id: str
    url: str
    description: str
    event_types: list[str]
    created: float
    disabled: bool
    disabled_reason: str | None = None
    secret_versions: int = Field(description="Secrets currently valid (2 during a rotation)")


class EndpointCreated(EndpointView):
    secret: str = Field(description="whsec_... shown once; store it to verify signatures")


class EndpointList(_Model):
    endpoints: list[EndpointView]


class SecretRotated(_Model):
    id: str
    secret: str = Field(description="The new whsec_... secret, shown once")
    previous_valid_until: float | None = Field(description="Epoch seconds; both signatures sent")


class Delivery(_Model):
    task_id: str
    webhook_id: str
    event_type: str
    attempt: int
    at: float
    outcome: str = Field(description="delivered | retry | failed | gone | blocked")
    status: int | None
    latency_ms: float
    error: str | None


class DeliveryList(_Model):
    deliveries: list[Delivery]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


def _ok(model: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


_COMMON: dict[int, Any] = {
    400: _error("Invalid request: the details name each problem and where it is"),
    401: _error("Missing or invalid token"),
    403: _error("The token lacks the webhooks:write scope"),
}
_NOT_FOUND: dict[int, Any] = {404: _error("Unknown endpoint, or another tenant's")}


def _route(operation_id: str, responses: dict[int, Any]) -> Any:
    route = by_operation(operation_id)
    return router.route(
        route.powertools_path,
        route.method,
        summary=route.summary,
        operation_id=operation_id,
        responses=cast(Any, {**_COMMON, **responses}),
        security=[{"bearer": []}, {"oauth2": [scopes.DEFAULT_PREFIX + s for s in route.scopes]}],
    )


def _caller() -> Identity:
    identity = identity_from_event(router.current_event.raw_event)
    identity.require(scopes.WEBHOOKS_WRITE)
    return identity


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


EndpointId = Annotated[str, Path(min_length=1, max_length=64, description="Endpoint id")]


@_route("create_endpoint", {201: _ok(EndpointCreated, "Registered; the secret is shown once")})
def create_endpoint(body: Annotated[EndpointCreate, Body()]) -> Response[EndpointCreated]:
    from functions.api import webhook_endpoints

    identity = _caller()
    created = webhook_endpoints.create(
        identity.tenant, body.url, body.description, body.event_types
    )
    return _json(201, created)


@_route("list_endpoints", {200: _ok(EndpointList, "The tenant's endpoints (at most 100)")})
def list_endpoints() -> Response[EndpointList]:
    from functions.api import webhook_endpoints

    return _json(200, webhook_endpoints.list_all(_caller().tenant))


@_route("get_endpoint", {200: _ok(EndpointView, "The endpoint (never its secret)"), **_NOT_FOUND})
def get_endpoint(id: EndpointId) -> Response[EndpointView]:
    from functions.api import webhook_endpoints

    return _json(200, webhook_endpoints.get(_caller().tenant, id))


@_route("delete_endpoint", {204: {"description": "Deleted"}, **_NOT_FOUND})
def delete_endpoint(id: EndpointId) -> Response[Any]:
    from functions.api import webhook_endpoints

    webhook_endpoints.delete(_caller().tenant, id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@_route(
    "rotate_endpoint_secret",
    {
        200: _ok(SecretRotated, "New secret; the old one stays valid for the grace period"),
        **_NOT_FOUND,
        409: _error("Deleted or rotated by another call meanwhile; read it and retry"),
    },
)
def rotate_endpoint_secret(id: EndpointId) -> Response[SecretRotated]:
    from functions.api import webhook_endpoints

    return _json(200, webhook_endpoints.rotate_secret(_caller().tenant, id))


@_route("list_deliveries", {200: _ok(DeliveryList, "Recent attempts, newest first"), **_NOT_FOUND})
def list_deliveries(
    id: EndpointId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response[DeliveryList]:
    from functions.api import webhook_endpoints

    return _json(200, webhook_endpoints.deliveries(_caller().tenant, id, limit))
