"""taskport's hand-built message matches what Celery's own send_task pushes."""

from __future__ import annotations

import base64
import json

import redis
from celery import Celery

from workers.contract.message import build_envelope


def test_envelope_has_the_shape_celery_send_task_produces(
    redis_url: str, redis_client: redis.Redis
) -> None:
    app = Celery("probe", broker=redis_url)
    app.conf.task_serializer = "json"
    result = app.send_task(
        "diagnostics.echo", kwargs={"message": "hi"}, queue="default", headers={"tenant": "t1"}
    )
    theirs = json.loads(redis_client.lpop("default"))
    ours = json.loads(
        build_envelope(
            task_name="diagnostics.echo",
            task_id=result.id,
            queue="default",
            kwargs={"message": "hi"},
            headers={"tenant": "t1"},
        )
    )
    assert set(theirs) == set(ours)
    assert set(theirs["headers"]) <= set(ours["headers"])
    assert set(theirs["properties"]) == set(ours["properties"])
    for field in ("content-type", "content-encoding"):
        assert ours[field] == theirs[field]
    for field in ("lang", "task", "id", "root_id", "retries", "timelimit", "tenant", "eta"):
        assert ours["headers"][field] == theirs["headers"][field], field
    for field in ("correlation_id", "delivery_mode", "delivery_info", "priority", "body_encoding"):
        assert ours["properties"][field] == theirs["properties"][field], field
    assert json.loads(base64.b64decode(ours["body"])) == json.loads(
        base64.b64decode(theirs["body"])
    )
