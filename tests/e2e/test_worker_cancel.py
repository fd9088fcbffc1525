"""Cancel of queued tasks with real worker processes started and killed by the test.

A cancel is a durable flag in Redis the worker checks before running a task, so it holds
when no worker was running at cancel time and when every worker restarted since (no
revoke list held in worker memory).
"""

from __future__ import annotations

import pytest
import redis

from tests.support.api_events import ApiCaller
from tests.support.polling import wait_for
from tests.support.workers import WorkerFleet, WorkerProcess, queued_task_ids
from workers import catalog
from workers.contract import keys, records

pytestmark = pytest.mark.e2e

FINAL = tuple(records.FINAL_STATES)
QUEUE = catalog.TASKS["diagnostics.echo"].queue


def assert_never_ran(
    api: ApiCaller, redis_client: redis.Redis, task_id: str, worker: WorkerProcess
) -> None:
    """The worker consumed the message (a sentinel behind it finished) and did not run it."""
    sentinel = api.submit("diagnostics.echo", {"message": "sentinel"}).body["id"]
    assert api.wait_for_state(sentinel, *FINAL, timeout=20)["state"] == records.SUCCESS
    assert task_id not in queued_task_ids(redis_client, QUEUE)

    body = api.get(task_id).body
    assert body["state"] == records.REVOKED
    assert body["result"] is None
    assert body["started"] is None
    assert body["attempts"] == 0
    # The worker saw the flag and wrote Celery's own result as REVOKED, not SUCCESS.
    meta = redis_client.get(keys.celery_meta(task_id))
    assert meta is not None
    assert '"status": "REVOKED"' in meta
    assert f"[{task_id}] succeeded" not in worker.log()
    assert f"task {task_id} cancelled before start" in worker.log()


def test_cancel_of_a_queued_task_with_no_worker_running(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "never"}).body["id"]
    assert task_id in queued_task_ids(redis_client, QUEUE)

    cancelled = api.cancel(task_id)
    assert cancelled.status == 202
    assert cancelled.body["state"] == records.REVOKED
    assert api.get(task_id).body["state"] == records.REVOKED

    worker = fleet.start()
    assert_never_ran(api, redis_client, task_id, worker)


def test_queued_cancel_survives_a_restart_of_every_worker(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    first = fleet.start(concurrency=1)
    # Occupy the only pool slot so the target stays queued behind it (prefetch 1).
    blocker = api.submit("diagnostics.sleep", {"seconds": 30, "steps": 60}).body["id"]
    api.wait_for_state(blocker, records.PROGRESS, timeout=20)
    target = api.submit("diagnostics.echo", {"message": "never"}).body["id"]
    assert target in queued_task_ids(redis_client, QUEUE)

    assert api.cancel(target).status == 202
    # Every worker goes away (a redeploy): whatever it held in memory is lost.
    first.kill()
    assert not first.running

    second = fleet.start(concurrency=1)
    assert_never_ran(api, redis_client, target, second)
    wait_for(
        lambda: target not in queued_task_ids(redis_client, QUEUE),
        timeout=5,
        what="the target to leave the queue",
    )
