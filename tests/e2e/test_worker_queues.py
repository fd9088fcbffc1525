"""A worker started with no ``-Q``: it consumes every catalog queue and nothing else, and
runs messages from any Celery client, with or without the ``tenant`` header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import redis

from tests.support.polling import wait_for
from tests.support.workers import WorkerFleet, WorkerProcess, queued_task_ids
from workers import catalog
from workers.contract import headers, keys, records

pytestmark = pytest.mark.e2e

# A database of its own for this module's long-lived workers (tests/e2e/conftest.py).
MODULE_DB = 4

# Celery's own default queue, which a taskport worker must leave alone.
CELERY_DEFAULT_QUEUE = "celery"
FINAL = tuple(records.FINAL_STATES)


@pytest.fixture(scope="module")
def worker(module_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    fleet = WorkerFleet(module_url, tmp_path_factory.mktemp("worker-logs"))
    try:
        yield fleet.start(queues=None, concurrency=1)
    finally:
        fleet.stop_all()


def final_meta(rdb: redis.Redis, task_id: str) -> dict[str, Any] | None:
    raw = rdb.get(keys.celery_meta(task_id))
    meta = json.loads(raw) if raw else None
    return meta if meta and meta["status"] in FINAL else None


def test_worker_without_q_consumes_the_catalog_queues_only(
    worker: WorkerProcess, client_app: Any, rdb: redis.Redis
) -> None:
    assert CELERY_DEFAULT_QUEUE not in catalog.QUEUES
    # Sent first; no tenant header on any of these (echo does not need one).
    stray = client_app.send_task(
        "diagnostics.echo", kwargs={"message": "stray"}, queue=CELERY_DEFAULT_QUEUE
    ).id
    sent = {
        queue: client_app.send_task("diagnostics.echo", kwargs={"message": queue}, queue=queue).id
        for queue in catalog.QUEUES
    }

    for queue, task_id in sent.items():
        meta = wait_for(partial(final_meta, rdb, task_id), timeout=30, what=f"echo on {queue}")
        assert meta["status"] == records.SUCCESS
        assert meta["result"] == {"message": queue}
        assert f".> {queue} " in worker.log()
    # Still waiting: nobody consumes Celery's default queue.
    assert queued_task_ids(rdb, CELERY_DEFAULT_QUEUE) == [stray]
    assert rdb.get(keys.celery_meta(stray)) is None
    assert f".> {CELERY_DEFAULT_QUEUE} " not in worker.log()


def test_task_that_needs_a_tenant_fails_clearly_without_the_header(
    worker: WorkerProcess, client_app: Any, rdb: redis.Redis
) -> None:
    spec = catalog.TASKS["notifications.send_email"]
    assert spec.requires_tenant
    valid = {"to": ["someone@example.com"], "subject": "hi", "text": "hello"}
    spec.args_model.model_validate(valid)  # the failure below is about the header only
    sent = client_app.send_task(spec.name, kwargs=valid, queue=spec.queue)

    meta = wait_for(lambda: final_meta(rdb, sent.id), timeout=30, what="the task to fail")

    assert meta["status"] == records.FAILURE
    assert meta["result"]["exc_type"] == "MissingTenant"
    assert headers.TENANT_HEADER in " ".join(meta["result"]["exc_message"])
    assert f"[{sent.id}] retry" not in worker.log()
