"""A worker started with no ``-Q`` consumes every catalog queue and nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.polling import wait_for
from tests.support.workers import WorkerFleet, queued_task_ids
from workers import catalog
from workers.contract import keys, records

pytestmark = pytest.mark.e2e

# Celery's own default queue, which a taskport worker must leave alone.
CELERY_DEFAULT_QUEUE = "celery"


@pytest.fixture
def client_app(redis_url: str) -> Iterator[Any]:
    from celery import Celery

    app = Celery("other-service", broker=redis_url)
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()


def test_worker_without_q_consumes_the_catalog_queues_only(
    redis_url: str, tmp_path: Path, client_app: Any, redis_client: redis.Redis
) -> None:
    assert CELERY_DEFAULT_QUEUE not in catalog.QUEUES
    fleet = WorkerFleet(redis_url, tmp_path)
    try:
        worker = fleet.start(queues=None, concurrency=1)
        stray = client_app.send_task(
            "diagnostics.echo", kwargs={"message": "stray"}, queue=CELERY_DEFAULT_QUEUE
        ).id
        sent = {
            queue: client_app.send_task(
                "diagnostics.echo", kwargs={"message": queue}, queue=queue
            ).id
            for queue in catalog.QUEUES
        }

        def all_done() -> bool:
            metas = [redis_client.get(keys.celery_meta(i)) for i in sent.values()]
            return all(m and json.loads(m)["status"] == records.SUCCESS for m in metas)

        wait_for(all_done, timeout=30, what="one echo per catalog queue")
        for queue in catalog.QUEUES:
            assert f".> {queue} " in worker.log()
        # Sent first, still waiting: nobody consumes Celery's default queue.
        assert queued_task_ids(redis_client, CELERY_DEFAULT_QUEUE) == [stray]
        assert redis_client.get(keys.celery_meta(stray)) is None
        assert f".> {CELERY_DEFAULT_QUEUE} " not in worker.log()
    finally:
        fleet.stop_all()
