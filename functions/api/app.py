"""The HTTP API (payload v2): routes from the shared table, services do the work.

Powertools' defaults are overridden to match DESIGN 3: validation errors are 400 in
taskport's error shape (no input echoed back), unknown routes 404 in the same shape,
every response is declared in the OpenAPI document, which is also served at
``/v1/openapi.json``.

Cold start: only POST /v1/tasks is registered at import. ``prepare_routes(event)``
registers every other route (``functions.api.other_routes``) before the first request
that is not a submit, so a submit never pays for the models, services and routes it does
not use, and every other request (404s included) sees the complete API.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

# Only what POST /v1/tasks needs: a cold start compiles and runs every module it imports.
from functions.api import models, submission
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

_SUBMIT = by_operation("submit_task")


def register_all_routes() -> None:
    """Register every route besides POST /v1/tasks (importing the module does; once)."""
    importlib.import_module("functions.api.other_routes")


def prepare_routes(event: dict[str, Any]) -> None:
    """Before routing ``event``: the full API unless Powertools will match the submit."""
    request = APIGatewayProxyEventV2(event)
    if request.http_method.upper() != _SUBMIT.method or request.path != _SUBMIT.path:
        register_all_routes()


def error_doc(description: str, model: Any = ErrorResponse) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


def ok_doc(model: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


_AUTH_ERRORS = {
    400: error_doc("Invalid request: the details name each problem and where it is"),
    401: error_doc("Missing or invalid token (API Gateway's answer)", AnyError),
    403: error_doc("The token lacks the scope this call needs", AnyError),
    503: error_doc("Redis is unreachable; retry later"),
}


def _security(route: Route) -> list[dict[str, list[str]]] | None:
    if route.public:
        return None
    prefix = scopes.DEFAULT_PREFIX
    return [{"bearer": []}, {"oauth2": [prefix + s for s in route.scopes]}]


def route(operation_id: str, responses: dict[int, Any]) -> Any:
    """Register a handler for the route table's ``operation_id`` with its declared answers."""
    spec = by_operation(operation_id)
    declared = {**({} if spec.public else _AUTH_ERRORS), **responses}
    return app.route(
        spec.powertools_path,
        spec.method,
        summary=spec.summary,
        operation_id=operation_id,
        responses=declared,
        security=_security(spec),
    )


def caller() -> Any:
    """The current request's identity (tenant and scopes)."""
    return identity_from_event(app.current_event.raw_event)


def json_response(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# ------------------------------------------------------- POST /v1/tasks


if TYPE_CHECKING:
    SubmitItem = Any
else:
    # A oneOf over catalog tasks discriminated by ``task``, built from the catalog.
    SubmitItem = models.submit_request_type()


@route(
    "submit_task",
    {
        202: ok_doc(models.SubmitResponse, "Accepted (also a replay of an Idempotency-Key)"),
        413: error_doc("Body over the configured limit", AnyError),
        415: error_doc("The body is not JSON"),
        422: error_doc("Idempotency-Key reused with a different body"),
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
    identity = caller()
    answer = submission.submit(
        identity,
        body.task,
        body.args.model_dump(),
        body.countdown,
        idempotency_key,
        app.current_event.json_body,
    )
    return json_response(202, answer)


# ------------------------------------------------------------- errors


@app.exception_handler(RequestValidationError)
def _on_validation(exc: RequestValidationError) -> Response[Any]:
    error = validation_error(exc.errors())
    return json_response(error.status, error.body())


@app.exception_handler(ApiError)
def _on_api_error(exc: ApiError) -> Response[Any]:
    return json_response(exc.status, exc.body())


@app.exception_handler(UnicodeDecodeError)
def _on_undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
    # A base64 body (isBase64Encoded: binary content type or non-UTF-8 bytes) that is not
    # UTF-8 cannot be JSON: Powertools' decode raises here, and it is the client's mistake.
    return json_response(
        400, ApiError(400, "invalid_json", "the request body is not valid JSON").body()
    )


@app.exception_handler(RequestUnsupportedContentType)
def _on_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[Any]:
    message = "the request body must be JSON (Content-Type: application/json)"
    return json_response(415, ApiError(415, "unsupported_media_type", message).body())


@app.not_found
def _on_not_found(_: NotFoundError) -> Response[Any]:
    event = app.current_event
    return json_response(
        404,
        ApiError(404, "not_found", f"no route for {event.http_method} {event.path}").body(),
    )


@app.exception_handler(SettingsError)
def _on_settings(exc: SettingsError) -> Response[Any]:
    logger().error("misconfigured", extra={"error": str(exc)})
    return json_response(500, ApiError(500, "misconfigured", "the service is misconfigured").body())


@app.exception_handler(Exception)
def _on_unexpected(exc: Exception) -> Response[Any]:
    if isinstance(exc, unavailable_errors()):
        logger().warning("redis unavailable", extra={"error": type(exc).__name__})
        error = service_unavailable(f"task store unavailable ({type(exc).__name__}); retry later")
        return json_response(503, error.body())
    logger().exception("unhandled error")
    return json_response(500, ApiError(500, "internal", "internal error").body())


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
