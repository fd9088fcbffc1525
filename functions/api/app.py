"""The HTTP API (payload v2): routes from the shared table, services do the work.

Powertools' defaults are overridden to match DESIGN 3: validation errors are 400 in
taskport's error shape (no input echoed back), unknown routes 404 in the same shape,
every response is declared in the OpenAPI document, which is also served at
``/v1/openapi.json``.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

# Only what POST /v1/tasks needs is imported here; the other routes import their service
# module on first call (a cold start compiles and runs every module it imports).
from functions.api import models, submission, webhooks
from functions.api.errors import AnyError, ApiError, ErrorResponse, service_unavailable
from functions.api.identity import identity_from_event
from functions.api.routes import Route, by_operation
from functions.api.validation import validation_error
from functions.shared.redis_client import unavailable_errors
from workers.contract import scopes
from workers.contract.headers import IDEMPOTENCY_HEADER
from workers.contract.settings import SettingsError, core_settings


@cache
def logger() -> Any:
    """Powertools' structured logger, built on first use: only error paths log, and its
    import (~30 ms) would otherwise be paid by every cold start."""
    from aws_lambda_powertools import Logger

    return Logger(service="taskport-api")


app = APIGatewayHttpResolver(enable_validation=True)

TITLE = "taskport"
VERSION = "1.0.0"


def _error(description: str, model: Any = ErrorResponse) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _ok(model: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


_AUTH_ERRORS = {
    400: _error("Invalid request: the details name each problem and where it is"),
    401: _error("Missing or invalid token (API Gateway's answer)", AnyError),
    403: _error("The token lacks the scope this call needs", AnyError),
    503: _error("Redis is unreachable; retry later"),
}


def _security(route: Route) -> list[dict[str, list[str]]] | None:
    if route.public:
        return None
    prefix = scopes.DEFAULT_PREFIX
    return [{"bearer": []}, {"oauth2": [prefix + s for s in route.scopes]}]


def _route(operation_id: str, responses: dict[int, Any]) -> Any:
    route = by_operation(operation_id)
    declared = {**({} if route.public else _AUTH_ERRORS), **responses}
    return app.route(
        route.powertools_path,
        route.method,
        summary=route.summary,
        operation_id=operation_id,
        responses=declared,
        security=_security(route),
    )


def _identity() -> Any:
    return identity_from_event(app.current_event.raw_event)


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# ---------------------------------------------------------------- routes


@_route("health", {200: _ok(models.Health, "Alive")})
def health() -> Response[models.Health]:
    return _json(200, {"status": "ok"})


@_route("catalog", {200: _ok(models.CatalogResponse, "Submittable tasks")})
def get_catalog() -> Response[models.CatalogResponse]:
    from functions.api import catalog_view

    _identity()
    return _json(200, catalog_view.catalog_document())


if TYPE_CHECKING:
    SubmitItem = Any
else:
    # A oneOf over catalog tasks discriminated by ``task``, built from the catalog.
    SubmitItem = models.submit_request_type()


@_route(
    "submit_task",
    {
        202: _ok(models.SubmitResponse, "Accepted (also a replay of an Idempotency-Key)"),
        413: _error("Body over the configured limit", AnyError),
        415: _error("The body is not JSON"),
        422: _error("Idempotency-Key reused with a different body"),
    },
)
def submit_task(
    body: Annotated[SubmitItem, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Printable ASCII, no spaces; replays within 24 h answer the same",
        ),
    ] = None,
) -> Response[models.SubmitResponse]:
    identity = _identity()
    answer = submission.submit(
        identity,
        body.task,
        body.args.model_dump(),
        body.countdown,
        idempotency_key,
        app.current_event.json_body,
    )
    return _json(202, answer)


class BatchRequest(models._Request):
    tasks: Annotated[
        list[SubmitItem],
        models.Field(min_length=1, max_length=models.MAX_BATCH),
    ]


@_route(
    "submit_batch",
    {
        202: _ok(models.BatchResponse, "Accepted items with ids; rejected items with errors"),
        413: _error("Body over the configured limit", AnyError),
        415: _error("The body is not JSON"),
    },
)
def submit_batch(body: Annotated[BatchRequest, Body()]) -> Response[models.BatchResponse]:
    identity = _identity()
    items = [
        {"task": t.task, "args": t.args.model_dump(), "countdown": t.countdown} for t in body.tasks
    ]
    return _json(202, submission.submit_batch(identity, items))


@_route("list_tasks", {200: _ok(models.TaskPage, "Newest first; pass next_cursor to page")})
def list_tasks(
    state: Annotated[models.TaskState | None, Query(description="Only tasks in this state")] = None,
    task: Annotated[str | None, Query(max_length=200, description="Only this catalog task")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response[models.TaskPage]:
    from functions.api import task_listing

    identity = _identity()
    return _json(200, task_listing.list_tasks(identity, state, task, limit, cursor))


TaskId = Annotated[str, Path(min_length=1, max_length=64, description="Task id")]


@_route(
    "get_task",
    {
        200: _ok(models.TaskView, "The task's state"),
        404: _error("Unknown, expired or another tenant's task"),
    },
)
def get_task(id: TaskId) -> Response[models.TaskView]:
    from functions.api import task_reader

    return _json(200, task_reader.read(_identity(), id))


@_route(
    "cancel_task",
    {
        202: _ok(models.CancelResponse, "Cancelled (queued) or cancelling (running)"),
        404: _error("Unknown, expired or another tenant's task"),
        409: _error("The task already finished"),
    },
)
def cancel_task(id: TaskId) -> Response[models.CancelResponse]:
    from functions.api import cancellation

    return _json(202, cancellation.cancel(_identity(), id))


@_route(
    "fire_schedule",
    {
        202: _ok(models.FireResponse, "The schedule's task was enqueued"),
        404: _error("No such schedule in the catalog"),
    },
)
def fire_schedule(
    name: Annotated[str, Path(min_length=1, max_length=200)],
) -> Response[models.FireResponse]:
    from functions.api.task_reader import iso
    from functions.scheduler.firing import UnknownSchedule, fire

    _identity().require(scopes.ADMIN)
    try:
        fired = fire(
            name,
            time=iso(time.time()) or "",
            event_id=f"manual-{uuid.uuid4()}",
            manual=True,
        )
    except UnknownSchedule:
        raise ApiError(404, "not_found", f"no schedule named '{name}' in the catalog") from None
    return _json(
        202,
        {
            "schedule": fired.schedule,
            "id": fired.task_id,
            "task": fired.task,
            "state": "PENDING",
            "duplicate": fired.duplicate,
        },
    )


# Webhook endpoints (registration, rotation, deliveries) live in their own router.
app.include_router(webhooks.router)


# ------------------------------------------------------------- OpenAPI


# Plain dicts: the OpenAPI pydantic models cost ~120 ms to import, which a cold start
# would pay for a document only /v1/openapi.json and /v1/docs need.
SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "oauth2": {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth2/token",
                "scopes": {scopes.DEFAULT_PREFIX + s: s for s in scopes.ALL},
            }
        },
    },
}
DESCRIPTION = "Submit Celery tasks by name, follow their progress, cancel them."


@cache
def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
    )


@_route("openapi", {200: {"description": "The OpenAPI document"}})
def get_openapi() -> Response[Any]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json()
    )


@_route("docs", {200: {"description": "Swagger UI", "content": {"text/html": {}}}})
def get_docs() -> Response[Any]:
    # Powertools' enable_swagger imports its OpenAPI models at registration (~100 ms of
    # every cold start); the page is built here on demand from the same document.
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import (
        generate_swagger_html,
    )

    assets = FilePath(generate_swagger_html.__code__.co_filename).parent
    html = generate_swagger_html(
        openapi_json().replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
    return Response(status_code=200, content_type="text/html", body=html)


# ------------------------------------------------------------- errors


@app.exception_handler(RequestValidationError)
def _on_validation(exc: RequestValidationError) -> Response[Any]:
    error = validation_error(exc.errors())
    return _json(error.status, error.body())


@app.exception_handler(ApiError)
def _on_api_error(exc: ApiError) -> Response[Any]:
    return _json(exc.status, exc.body())


@app.exception_handler(UnicodeDecodeError)
def _on_undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
    # A base64 body (isBase64Encoded: binary content type or non-UTF-8 bytes) that is not
    # UTF-8 cannot be JSON: Powertools' decode raises here, and it is the client's mistake.
    return _json(400, ApiError(400, "invalid_json", "the request body is not valid JSON").body())


@app.exception_handler(RequestUnsupportedContentType)
def _on_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
    message = "the request body must be JSON (Content-Type: application/json)"
    return _json(415, ApiError(415, "unsupported_media_type", message).body())


@app.not_found
def _on_not_found(_: NotFoundError) -> Response[Any]:
    event = app.current_event
    return _json(
        404,
        ApiError(404, "not_found", f"no route for {event.http_method} {event.path}").body(),
    )


@app.exception_handler(SettingsError)
def _on_settings(exc: SettingsError) -> Response[Any]:
    logger().error("misconfigured", extra={"error": str(exc)})
    return _json(500, ApiError(500, "misconfigured", "the service is misconfigured").body())


@app.exception_handler(Exception)
def _on_unexpected(exc: Exception) -> Response[Any]:
    if isinstance(exc, unavailable_errors()):
        logger().warning("redis unavailable", extra={"error": type(exc).__name__})
        error = service_unavailable(f"task store unavailable ({type(exc).__name__}); retry later")
        return _json(503, error.body())
    logger().exception("unhandled error")
    return _json(500, ApiError(500, "internal", "internal error").body())


def _raw_error(error: ApiError) -> dict[str, Any]:
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error.body()),
        "isBase64Encoded": False,
    }


def reject_before_routing(event: dict[str, Any]) -> dict[str, Any] | None:
    """413 for a body over the limit, 415 for a body that is not JSON; else None.

    Checked before routing: request validation would parse (or choke on) the body first,
    e.g. Powertools' multipart parser raises on a multipart body without a boundary.
    """
    body = event.get("body")
    if not body:
        return None
    try:
        limit = core_settings().max_body_bytes
    except SettingsError:
        return None  # routing answers "misconfigured" in the error shape
    # base64 grows 4/3; compare the decoded size's upper bound cheaply.
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size > limit:
        return _raw_error(ApiError(413, "payload_too_large", f"request body over {limit} bytes"))
    headers = event.get("headers") or {}
    media = str(headers.get("content-type", "application/json")).split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        message = "the request body must be JSON (Content-Type: application/json)"
        return _raw_error(ApiError(415, "unsupported_media_type", message))
    return None
