"""Lost work comes back: killed pool children, killed workers, and Fargate-style SIGTERM.

Each test starts and kills its own real ``celery worker`` processes (by PID / by the
process group the launcher created) and proves where the message went from Redis itself:
kombu keeps delivered-but-unacknowledged messages in its ``unacked`` hash.
"""

from __future__ import annotations

import os
import signal

import pytest
import redis

from tests.support.api_events import ApiCaller
from tests.support.polling import wait_for
from tests.support.workers import WorkerFleet, pid_alive, queued_task_ids, unacked_task_ids
from workers import catalog
from workers.contract import records

pytestmark = pytest.mark.e2e

FINAL = tuple(records.FINAL_STATES)
QUEUE = catalog.TASKS["diagnostics.sleep"].queue
# The smallest visibility timeout the settings accept; tasks here are far shorter.
SHORT_VISIBILITY = 10


def succeeded_in(log: str, task_id: str) -> bool:
    return f"[{task_id}] succeeded" in log


def test_pool_child_killed_mid_task_is_requeued_at_once_and_finished(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    # The default (1 h) visibility timeout: only reject_on_worker_lost can bring it back.
    worker = fleet.start(concurrency=1)
    task_id = api.submit("diagnostics.sleep", {"seconds": 3, "steps": 6}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)
    [child] = worker.pool_pids()

    os.kill(child, signal.SIGKILL)

    body = api.wait_for_state(task_id, *FINAL, timeout=30)
    assert body["state"] == records.SUCCESS, body
    assert body["result"] == {"slept": 3, "steps": 6}
    assert body["attempts"] == 2
    assert worker.running
    assert child not in worker.pool_pids()
    assert "WorkerLostError" in worker.log()
    assert task_id not in unacked_task_ids(redis_client)


def test_a_task_that_keeps_killing_its_pool_child_fails_instead_of_looping(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    # reject_on_worker_lost requeues a run whose process died (OOM looks like this) at
    # once, forever; after MAX_LOST_RUNS lost runs the next start fails the task.
    worker = fleet.start(concurrency=1)
    task_id = api.submit("diagnostics.sleep", {"seconds": 20, "steps": 40}).body["id"]
    for run in range(1, records.MAX_LOST_RUNS + 1):

        def running(attempt: int = run) -> bool:
            body = api.get(task_id).body
            return body["state"] == records.PROGRESS and body["attempts"] == attempt

        wait_for(running, timeout=30, what=f"run {run} of {task_id} in progress")
        [child] = worker.wait_pool()
        os.kill(child, signal.SIGKILL)

    body = api.wait_for_state(task_id, *FINAL, timeout=30)
    assert body["state"] == records.FAILURE, body
    assert body["error"]["type"] == "WorkerLostRepeatedly"
    assert "not run again" in body["error"]["message"]
    assert body["attempts"] == records.MAX_LOST_RUNS
    assert worker.running
    assert task_id not in unacked_task_ids(redis_client)
    assert task_id not in queued_task_ids(redis_client, QUEUE)


def test_a_green_worker_brings_back_a_dead_workers_task(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    # No prefork worker runs here: the second gevent worker itself must restore the
    # message the first one left unacknowledged (Celery's synloop never did).
    first = fleet.start(concurrency=2, pool="gevent", visibility_timeout=SHORT_VISIBILITY)
    task_id = api.submit("diagnostics.sleep", {"seconds": 2, "steps": 4}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)
    os.kill(first.pid, signal.SIGKILL)
    first.wait_exit(timeout=10)
    assert task_id in unacked_task_ids(redis_client)

    second = fleet.start(concurrency=2, pool="gevent", visibility_timeout=SHORT_VISIBILITY)
    body = api.wait_for_state(task_id, *FINAL, timeout=SHORT_VISIBILITY + 30)
    assert body["state"] == records.SUCCESS, body
    assert body["attempts"] == 2
    assert succeeded_in(second.log(), task_id)
    assert task_id not in unacked_task_ids(redis_client)


def test_worker_killed_task_returns_after_the_visibility_timeout(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    first = fleet.start(concurrency=1, visibility_timeout=SHORT_VISIBILITY)
    task_id = api.submit("diagnostics.sleep", {"seconds": 3, "steps": 6}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)
    [child] = first.pool_pids()

    os.kill(first.pid, signal.SIGKILL)
    first.wait_exit(timeout=10)
    # The pool child dies with its parent (PDEATHSIG), as everything does in a lost task.
    wait_for(lambda: not pid_alive(child), timeout=10, what="the child to die")
    # Nobody acknowledged or rejected it: the message waits in kombu's unacked hash.
    assert task_id in unacked_task_ids(redis_client)
    assert task_id not in queued_task_ids(redis_client, QUEUE)

    second = fleet.start(concurrency=1, visibility_timeout=SHORT_VISIBILITY)
    body = api.wait_for_state(task_id, *FINAL, timeout=SHORT_VISIBILITY + 30)

    assert body["state"] == records.SUCCESS, body
    assert body["attempts"] == 2
    assert succeeded_in(second.log(), task_id)
    assert not succeeded_in(first.log(), task_id)
    assert task_id not in unacked_task_ids(redis_client)


def test_sigterm_soft_phase_then_cold_shutdown_requeues_the_task(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    # Default visibility timeout: only the cold shutdown can put the message back.
    first = fleet.start(concurrency=1, soft_shutdown_timeout=1.0)
    task_id = api.submit("diagnostics.sleep", {"seconds": 8, "steps": 16}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)

    first.signal(signal.SIGTERM)  # what ECS sends; REMAP_SIGTERM=SIGQUIT makes it cold
    first.wait_exit(timeout=30)

    # The soft phase was bounded: the worker left before the task could finish.
    log = first.log()
    assert not succeeded_in(log, task_id)
    assert "soft shutdown" in log.lower()
    assert "cold shutdown" in log.lower()
    assert api.get(task_id).body["state"] == records.PROGRESS
    # The unacknowledged message went back on its queue, not into the unacked hash.
    assert task_id in queued_task_ids(redis_client, QUEUE)
    assert task_id not in unacked_task_ids(redis_client)

    second = fleet.start(concurrency=1)
    body = api.wait_for_state(task_id, *FINAL, timeout=30)
    assert body["state"] == records.SUCCESS, body
    assert body["result"] == {"slept": 8, "steps": 16}
    assert succeeded_in(second.log(), task_id)


def test_sigterm_soft_phase_lets_a_short_task_finish(
    api: ApiCaller, fleet: WorkerFleet, redis_client: redis.Redis
) -> None:
    # A soft phase longer than what is left of the task: it ends normally during the soft
    # phase and is acknowledged, not requeued or failed by the cold shutdown that follows
    # (celery/celery#9505). Celery sleeps the whole soft phase once a task is active.
    worker = fleet.start(concurrency=1, soft_shutdown_timeout=4.0)
    task_id = api.submit("diagnostics.sleep", {"seconds": 1, "steps": 4}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)

    worker.signal(signal.SIGTERM)
    worker.wait_exit(timeout=30)

    assert succeeded_in(worker.log(), task_id)
    assert api.get(task_id).body["state"] == records.SUCCESS
    assert task_id not in queued_task_ids(redis_client, QUEUE)
    assert task_id not in unacked_task_ids(redis_client)


def test_stop_ends_the_worker_and_every_pool_child(fleet: WorkerFleet) -> None:
    worker = fleet.start(concurrency=2)
    children = worker.wait_pool()
    assert len(children) == 2
    assert worker.pid not in children

    worker.stop()

    assert not worker.running
    for pid in (worker.pid, *children):
        assert not pid_alive(pid)
