"""Every route except POST /v1/tasks, registered on the first request that needs them.

A cold start for a submit (the call that matters most) never compiles this module or
the services below, builds their models or registers their routes. The handler imports it
(``app.prepare_routes``) before routing any other request, so Powertools matches those
against the complete API, unknown paths (404) and the OpenAPI document included.
"""

from __future__ import annotations

import time
import uuid
from functools import cache
from pathlib import Path as FilePath
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from functions.api import (
    cancellation,
    catalog_view,
    models,
    other_models,
    submission,
    task_listing,
    task_reader,
    webhooks,
)
from functions.api.app import (
    SubmitItem,
    app,
    caller,
    error_doc,
    json_response,
    ok_doc,
    route,
)
from functions.api.errors import AnyError, ApiError
from functions.scheduler.firing import UnknownSchedule, fire
from workers.contract import scopes


@route("health", {200: ok_doc(other_models.Health, "Alive")})
def health() -> Response[other_models.Health]:
    return json_response(200, {"status": "ok"})


@route("catalog", {200: ok_doc(other_models.CatalogResponse, "Submittable tasks")})
def get_catalog() -> Response[other_models.CatalogResponse]:
    caller()
    return json_response(200, catalog_view.catalog_document())


class BatchRequest(models._Request):
    tasks: Annotated[
        list[SubmitItem],
        models.Field(min_length=1, max_length=models.MAX_BATCH),
    ]


@route(
    "submit_batch",
    {
        202: ok_doc(
            other_models.BatchResponse, "Accepted items with ids; rejected items with errors"
        ),
        413: error_doc("Body over the configured limit", AnyError),
        415: error_doc("The body is not JSON"),
    },
)
def submit_batch(body: Annotated[BatchRequest, Body()]) -> Response[other_models.BatchResponse]:
    identity = caller()
    items = [
        {"task": t.task, "args": t.args.model_dump(), "countdown": t.countdown} for t in body.tasks
    ]
    return json_response(202, submission.submit_batch(identity, items))


@route("list_tasks", {200: ok_doc(other_models.TaskPage, "Newest first; pass next_cursor to page")})
def list_tasks(
    state: Annotated[models.TaskState | None, Query(description="Only tasks in this state")] = None,
    task: Annotated[str | None, Query(max_length=200, description="Only this catalog task")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response[other_models.TaskPage]:
    identity = caller()
    return json_response(200, task_listing.list_tasks(identity, state, task, limit, cursor))


TaskId = Annotated[str, Path(min_length=1, max_length=64, description="Task id")]


@route(
    "get_task",
    {
        200: ok_doc(other_models.TaskView, "The task's state"),
        404: error_doc("Unknown, expired or another tenant's task"),
    },
)
def get_task(id: TaskId) -> Response[other_models.TaskView]:
    return json_response(200, task_reader.read(caller(), id))


@route(
    "cancel_task",
    {
        202: ok_doc(other_models.CancelResponse, "Cancelled (queued) or cancelling (running)"),
        404: error_doc("Unknown, expired or another tenant's task"),
        409: error_doc("The task already finished"),
    },
)
def cancel_task(id: TaskId) -> Response[other_models.CancelResponse]:
    return json_response(202, cancellation.cancel(caller(), id))


@route(
    "fire_schedule",
    {
        202: ok_doc(other_models.FireResponse, "The schedule's task was enqueued"),
        404: error_doc("No such schedule in the catalog"),
    },
)
def fire_schedule(
    name: Annotated[str, Path(min_length=1, max_length=200)],
) -> Response[other_models.FireResponse]:
    caller().require(scopes.ADMIN)
    try:
        fired = fire(
            name,
            time=task_reader.iso(time.time()) or "",
            event_id=f"manual-{uuid.uuid4()}",
            manual=True,
        )
    except UnknownSchedule:
        raise ApiError(404, "not_found", f"no schedule named '{name}' in the catalog") from None
    return json_response(
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
TITLE = "taskport"
VERSION = "1.0.0"
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


@route("openapi", {200: {"description": "The OpenAPI document"}})
def get_openapi() -> Response[Any]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_json()
    )


@route("docs", {200: {"description": "Swagger UI", "content": {"text/html": {}}}})
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
