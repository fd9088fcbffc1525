"""The retry schedule on a real Redis: due entries move to their queue as Celery messages.

A real worker running a swept message is covered in tests/e2e/test_webhooks_worker.py.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from workers import catalog
from workers.contract import keys
from workers.maintenance import retry_schedule


def defer(client: Any, task_id: str, due_at: float) -> None:
    retry_schedule.defer(
        client,
        task_name="notifications.send_email",
        task_id=task_id,
        queue="notifications",
        kwargs={"to": ["a@example.com"], "subject": "s", "text": "t"},
        headers={"tenant": "acme", "taskport_attempt": 2},
        retries=3,
        due_at=due_at,
    )


def test_only_due_entries_move(redis_client: Any) -> None:
    now = time.time()
    defer(redis_client, "due-1", now - 5)
    defer(redis_client, "later-1", now + 3600)
    assert retry_schedule.sweep(redis_client, now=now) == 1
    assert retry_schedule.pending(redis_client) == 1
    [raw] = redis_client.lrange("notifications", 0, -1)
    envelope = json.loads(raw)
    assert envelope["headers"]["id"] == "due-1"
    assert envelope["headers"]["task"] == "notifications.send_email"
    assert envelope["headers"]["tenant"] == "acme"
    assert envelope["headers"]["retries"] == 3
    assert envelope["headers"]["taskport_attempt"] == 2
    args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
    assert args == [] and kwargs["to"] == ["a@example.com"]
    # Sweeping again moves nothing (entries are removed as they move).
    assert retry_schedule.sweep(redis_client, now=now) == 0


def test_sweep_is_bounded_per_run(redis_client: Any) -> None:
    now = time.time()
    for n in range(5):
        defer(redis_client, f"t{n}", now - n)
    assert retry_schedule.sweep(redis_client, limit=2, now=now) == 2
    assert retry_schedule.sweep(redis_client, limit=10, now=now) == 3
    assert redis_client.llen("notifications") == 5
    assert redis_client.zcard(keys.RETRY_SCHEDULE) == 0


def test_sweep_is_a_catalog_schedule_every_minute() -> None:
    schedule, spec = catalog.SCHEDULES["maintenance.retry-sweep"]
    assert spec.name == "maintenance.sweep_retries" and spec.scope is None
    assert schedule.period_seconds == 60
