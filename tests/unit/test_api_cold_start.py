"""The API Lambda's cold-start shape: what a fresh process loads, and that it stays correct.

A submit registers and builds only what POST /v1/tasks needs; any other first request
must still see the whole API. Each case runs in a fresh interpreter, since "first
request" is a per-process property.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.api import models
from functions.api.routes import ROUTES
from functions.api.validation import validation_error
from tests.support.fresh_python import run_python

# Loaded for the routes a submit does not use (webhooks, reads, OpenAPI).
NOT_ON_SUBMIT_PATH = [
    "functions.api.other_routes",
    "functions.api.other_models",
    "functions.api.webhooks",
    "functions.api.webhook_endpoints",
    "functions.api.task_reader",
    "functions.scheduler.firing",
    "workers.contract.endpoint_store",
    "workers.contract.notify_settings",
    "workers.contract.ssrf",
]


def run(code: str) -> Any:
    """Run ``code`` in a fresh interpreter against a closed Redis port; its last line is JSON."""
    prelude = (
        "import os, sys, json; os.environ['REDIS_URL'] = 'redis://127.0.0.1:1/0';"
        "sys.path.insert(0, '.');"
        "from tests.functional.conftest import ApiClient;"
    )
    return json.loads(run_python(prelude + code).strip().splitlines()[-1])


def test_a_cold_submit_loads_no_other_route_and_builds_no_other_task_model() -> None:
    out = run(
        "from workers import catalog; from functions.api import models;"
        "r = ApiClient().submit('diagnostics.echo', {'message': 'x'});"
        "print(json.dumps({'status': r.status,"
        f" 'loaded': sorted(m for m in {NOT_ON_SUBMIT_PATH!r} if m in sys.modules),"
        " 'built': sorted(s.args_model.__name__ for s in catalog.TASKS.values()"
        "   if s.args_model.__pydantic_complete__),"
        " 'union_built': models._union.cache_info().currsize}))"
    )
    assert out["status"] == 503  # validated, then Redis is unreachable
    assert out["loaded"] == []
    # Only the submitted task's models: not every task's through the whole union.
    assert out["built"] == ["EchoArgs"]
    assert out["union_built"] == 0


def test_importing_the_handler_builds_no_taskport_model() -> None:
    out = run(
        "import functions.api.handler;"
        "from functions.api import errors, models; from workers import catalog;"
        "checked = [errors.ErrorResponse, errors.AnyError, models.SubmitResponse,"
        " *(s.args_model for s in catalog.TASKS.values())];"
        "print(json.dumps(sorted(m.__name__ for m in checked if m.__pydantic_complete__)))"
    )
    assert out == []


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/health", 200, None),
        # The read route ran (registered on demand) and met the closed Redis port.
        ("GET", "/v1/tasks/some-id", 503, "service_unavailable"),
        ("POST", "/v1/tasks/batch", 400, "invalid_request"),  # no body
        ("GET", "/v1/no-such-route", 404, "not_found"),
    ],
)
def test_a_first_request_that_is_not_a_submit_sees_the_whole_api(
    method: str, path: str, status: int, code: str | None
) -> None:
    out = run(
        f"r = ApiClient().call({method!r}, {path!r});"
        "print(json.dumps({'status': r.status, 'body': r.body}))"
    )
    assert out["status"] == status
    if code is not None:
        assert out["body"]["error"]["code"] == code


def test_a_first_request_for_the_openapi_document_lists_every_route() -> None:
    out = run(
        "r = ApiClient().call('GET', '/v1/openapi.json');"
        "print(json.dumps(sorted(op['operationId'] for item in r.body['paths'].values()"
        " for op in item.values())))"
    )
    assert out == sorted(r.operation_id for r in ROUTES)


BAD_BODIES = [
    {"task": "diagnostics.echo"},
    {"task": "diagnostics.echo", "args": {"message": 5, "extra": 1}},
    {"task": "diagnostics.echo", "args": "text", "countdown": -1},
    {"task": "diagnostics.sleep", "args": {"seconds": 100, "steps": 0}},
    {"task": "notifications.send_email", "args": {"to": ["not-an-address"], "subject": "s"}},
    {"task": "notifications.send_webhook", "args": {"endpoint_id": "x", "payload": []}},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_one_tasks_model_rejects_a_body_exactly_as_the_whole_union_does(
    body: dict[str, Any],
) -> None:
    from pydantic import TypeAdapter, ValidationError

    def rejection(adapter: TypeAdapter[Any]) -> dict[str, Any]:
        with pytest.raises(ValidationError) as caught:
            adapter.validate_python(body, from_attributes=True)
        error = validation_error(caught.value.errors())
        return {"status": error.status, **error.body()}

    fast = rejection(TypeAdapter(models.submit_request_type()))
    union = rejection(models._union())
    assert fast == union
    assert fast["error"]["code"] == "invalid_request"
    assert all(d["loc"][:1] != [body["task"]] for d in fast["error"]["details"])


@pytest.mark.parametrize("body", [{"task": "nope", "args": {}}, {"args": {}}, [], "text"])
def test_a_body_without_a_submittable_task_is_answered_by_the_union(body: Any) -> None:
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError) as caught:
        TypeAdapter(models.submit_request_type()).validate_python(body, from_attributes=True)
    error = validation_error(caught.value.errors())
    expected = "unknown_task" if isinstance(body, dict) else "invalid_request"
    assert (error.status, error.code) == (400, expected)
