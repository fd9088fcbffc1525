"""Tasks through the real API handler, Redis and a real Celery worker subprocess.

One worker is shared by this module (nothing here kills it); it consumes a Redis database
of its own, so no other test's flush can pull the broker's keys from under it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.support.api_events import ApiCaller, reset_api_settings
from tests.support.polling import wait_for
from tests.support.workers import WorkerFleet, WorkerProcess
from workers import catalog
from workers.contract import headers, keys, records
from workers.contract.settings import ENV_REDIS_URL

pytestmark = pytest.mark.e2e

# A database of its own for this module's long-lived workers (tests/e2e/conftest.py).
MODULE_DB = 3

FINAL = tuple(records.FINAL_STATES)


@pytest.fixture(scope="module")
def worker(module_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    fleet = WorkerFleet(module_url, tmp_path_factory.mktemp("worker-logs"))
    try:
        yield fleet.start(concurrency=2)
    finally:
        fleet.stop_all()


@pytest.fixture(scope="module")
def api(module_url: str, worker: WorkerProcess) -> Iterator[ApiCaller]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_REDIS_URL, module_url)
        reset_api_settings()
        yield ApiCaller(tenant="acme")
    reset_api_settings()


def celery_meta(rdb: redis.Redis, task_id: str) -> dict[str, Any] | None:
    raw = rdb.get(keys.celery_meta(task_id))
    return json.loads(raw) if raw else None


def wait_meta(rdb: redis.Redis, task_id: str, timeout: float = 20) -> dict[str, Any]:
    return wait_for(
        lambda: m if (m := celery_meta(rdb, task_id)) and m["status"] in FINAL else None,
        timeout=timeout,
        what=f"a final Celery result for {task_id}",
    )


def test_submit_runs_to_success_with_result_times_and_attempts(api: ApiCaller) -> None:
    submitted = api.submit("diagnostics.echo", {"message": "hello e2e"})
    assert submitted.status == 202
    task_id = submitted.body["id"]

    body = api.wait_for_state(task_id, *FINAL, timeout=20)

    assert body["state"] == records.SUCCESS
    assert body["result"] == {"message": "hello e2e"}
    assert body["error"] is None
    assert body["attempts"] == 1
    assert body["submitted"] <= body["started"] <= body["finished"]


def test_progress_is_visible_while_the_task_runs(api: ApiCaller) -> None:
    task_id = api.submit("diagnostics.sleep", {"seconds": 8, "steps": 40}).body["id"]

    first = api.wait_for_state(task_id, records.PROGRESS, *FINAL, timeout=20)
    assert first["state"] == records.PROGRESS, first
    assert 0 < first["progress"]["percent"] < 100
    assert first["progress"]["message"].startswith("step ")

    def advanced() -> dict[str, Any] | None:
        body = api.get(task_id).body
        assert body["state"] in (records.PROGRESS, records.SUCCESS), body
        if body["state"] == records.PROGRESS:
            return body if body["progress"]["percent"] > first["progress"]["percent"] else None
        raise AssertionError("finished before a second GET saw progress advance")

    later = wait_for(advanced, timeout=20, what="progress to advance")
    assert later["progress"]["percent"] > first["progress"]["percent"]

    done = api.wait_for_state(task_id, *FINAL, timeout=20)
    assert done["state"] == records.SUCCESS
    assert done["progress"]["percent"] == 100.0
    assert done["result"] == {"slept": 8, "steps": 40}


def test_cancel_of_a_running_task_stops_it_at_the_next_checkpoint(
    api: ApiCaller, rdb: redis.Redis, worker: WorkerProcess
) -> None:
    # 50 checkpoints 0.2 s apart: it cannot finish before the cancel is seen.
    task_id = api.submit("diagnostics.sleep", {"seconds": 10, "steps": 50}).body["id"]
    api.wait_for_state(task_id, records.PROGRESS, timeout=20)

    cancelled = api.cancel(task_id)
    assert cancelled.status == 202
    assert cancelled.body["id"] == task_id

    body = api.wait_for_state(task_id, *FINAL, timeout=20)
    assert body["state"] == records.REVOKED
    assert body["result"] is None
    assert body["progress"]["percent"] < 100
    assert body["finished"] is not None
    meta = celery_meta(rdb, task_id)
    assert meta is not None
    assert meta["status"] == records.REVOKED
    assert "cancelled at checkpoint" in worker.log()

    again = api.cancel(task_id)
    assert again.status == 202
    assert again.body["state"] == records.REVOKED


def test_cancel_of_a_task_waiting_for_its_countdown_never_runs(
    api: ApiCaller, rdb: redis.Redis, worker: WorkerProcess
) -> None:
    # A countdown message is delivered at once and held in the worker's memory until due:
    # the durable flag, not an in-memory revoke list, is what stops it.
    task_id = api.submit("diagnostics.echo", {"message": "later"}, countdown=1.5).body["id"]
    wait_for(
        lambda: f"[{task_id}] received" in worker.log(), timeout=20, what="the worker to hold it"
    )

    assert api.cancel(task_id).status == 202

    meta = wait_meta(rdb, task_id)
    assert meta["status"] == records.REVOKED
    body = api.get(task_id).body
    assert body["state"] == records.REVOKED
    assert body["result"] is None
    assert body["started"] is None
    assert f"[{task_id}] succeeded" not in worker.log()


def test_cancel_of_a_finished_task_is_409(api: ApiCaller) -> None:
    task_id = api.submit("diagnostics.echo", {"message": "done"}).body["id"]
    assert api.wait_for_state(task_id, *FINAL, timeout=20)["state"] == records.SUCCESS

    response = api.cancel(task_id)

    assert response.status == 409
    assert response.body["error"]["code"] == "already_finished"
    assert api.get(task_id).body["state"] == records.SUCCESS


def test_retryable_failure_ends_in_failure_after_the_configured_retries(api: ApiCaller) -> None:
    policy = catalog.TASKS["diagnostics.fail"].retry
    task_id = api.submit("diagnostics.fail", {"message": "flaky", "retryable": True}).body["id"]

    body = api.wait_for_state(task_id, *FINAL, timeout=30)

    assert body["state"] == records.FAILURE
    assert body["attempts"] == policy.max_retries + 1
    assert body["error"] == {"type": "RetryableDiagnosticError", "message": "flaky"}
    assert "Traceback" not in json.dumps(body)


def test_non_retryable_failure_fails_at_once_with_type_and_message(api: ApiCaller) -> None:
    task_id = api.submit("diagnostics.fail", {"message": "broken", "retryable": False}).body["id"]

    body = api.wait_for_state(task_id, *FINAL, timeout=20)

    assert body["state"] == records.FAILURE
    assert body["attempts"] == 1
    assert body["error"] == {"type": "DiagnosticError", "message": "broken"}
    assert "Traceback" not in json.dumps(body)


def test_plain_celery_send_task_by_name_runs(client_app: Any, rdb: redis.Redis) -> None:
    spec = catalog.TASKS["diagnostics.echo"]
    sent = client_app.send_task(
        spec.name,
        kwargs={"message": "from another app"},
        queue=spec.queue,
        headers={headers.TENANT_HEADER: "t"},
    )

    meta = wait_meta(rdb, sent.id)

    assert meta["status"] == records.SUCCESS
    assert meta["result"] == {"message": "from another app"}
    # No taskport record is invented for a message that did not come through the API.
    assert not rdb.exists(keys.task_record(sent.id))


def test_invalid_kwargs_reaching_a_worker_fail_with_a_validation_error(
    client_app: Any, rdb: redis.Redis, worker: WorkerProcess
) -> None:
    spec = catalog.TASKS["diagnostics.sleep"]
    sent = client_app.send_task(
        spec.name, kwargs={"seconds": "soon", "colour": "red"}, queue=spec.queue
    )

    meta = wait_meta(rdb, sent.id)

    assert meta["status"] == records.FAILURE
    assert meta["result"]["exc_type"] == "InvalidArguments"
    message = " ".join(meta["result"]["exc_message"])
    assert "seconds" in message
    assert "colour" in message
    # A validation error is never retried.
    assert f"{spec.name}[{sent.id}] retry" not in worker.log()
