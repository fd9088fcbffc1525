"""EventBridge schedule deliveries through the real scheduler handler, and manual fires."""

from __future__ import annotations

import json

import pytest
import redis

from tests.functional.conftest import ApiClient, LambdaContext, load_event
from workers.contract import keys
from workers.contract.headers import SYSTEM_TENANT


def deliver(event: dict) -> dict:
    from functions.scheduler.handler import handler

    return handler(event, LambdaContext())


def test_duplicate_deliveries_enqueue_exactly_once(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    event = load_event("scheduler_heartbeat.json")
    first = deliver(event)
    again = deliver({**event, "event_id": "another-delivery-of-the-same-fire"})

    assert first["status"] == "enqueued"
    assert again["status"] == "duplicate"
    assert again["id"] == first["id"]
    (message,) = [json.loads(m) for m in redis_client.lrange("default", 0, -1)]
    assert message["headers"]["task"] == "diagnostics.echo"
    assert message["headers"]["tenant"] == SYSTEM_TENANT
    assert redis_client.ttl(keys.schedule_fire("diagnostics.heartbeat", event["time"])) > 0


def test_each_fire_time_enqueues(api: ApiClient, redis_client: redis.Redis) -> None:
    event = load_event("scheduler_heartbeat.json")
    deliver(event)
    deliver({**event, "time": "2026-11-24T18:10:00Z", "event_id": "e2"})
    assert redis_client.llen("default") == 2


def test_scheduled_task_belongs_to_system_and_runs_the_constant_args(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    result = deliver(load_event("scheduler_heartbeat.json"))
    record = redis_client.hgetall(keys.task_record(result["id"]))
    assert record["tenant"] == SYSTEM_TENANT
    import base64

    (message,) = [json.loads(m) for m in redis_client.lrange("default", 0, -1)]
    assert json.loads(base64.b64decode(message["body"]))[1] == {"message": "heartbeat"}
    # Readable with ops:read, not by an ordinary tenant.
    assert api.call("GET", f"/v1/tasks/{result['id']}").status == 200  # ALL_SCOPES has ops:read
    no_ops = api.as_tenant("acme", scope="taskport/tasks:read")
    assert no_ops.call("GET", f"/v1/tasks/{result['id']}").status == 404


def test_unknown_schedule_is_logged_and_nothing_enqueued(
    api: ApiClient, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    result = deliver({"schedule": "no.such", "time": "2026-11-24T18:05:00Z", "event_id": "x"})
    assert result["status"] == "unknown_schedule"
    assert redis_client.llen("default") == 0
    assert any(
        "unknown schedule" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records
    )


def test_malformed_event_is_rejected_without_raising(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    assert deliver({"detail": {}})["status"] == "rejected"
    assert redis_client.llen("default") == 0


def test_manual_fire_needs_admin_and_each_fire_enqueues(
    api: ApiClient, redis_client: redis.Redis
) -> None:
    path = "/v1/schedules/diagnostics.heartbeat/fire"
    assert api.call("POST", path).status == 403  # ALL_SCOPES lacks admin
    admin = api.as_tenant("ops", scope="taskport/admin")
    first = admin.call("POST", path)
    second = admin.call("POST", path)
    assert first.status == second.status == 202
    assert first.body["id"] != second.body["id"]
    assert first.body["task"] == "diagnostics.echo"
    assert redis_client.llen("default") == 2
    assert admin.call("POST", "/v1/schedules/nope/fire").status == 404
