"""taskport's result backend on a real Redis: Celery's rules, one atomic round trip.

The app is built from the same ``celery_config`` the workers use, so the backend URL form
and the ``override_backends`` alias are what run in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.app.utils import filter_hidden_settings

from workers.config import WorkerSettings, celery_config
from workers.contract import keys
from workers.contract.settings import CoreSettings
from workers.result_backend import TaskportRedisBackend


@pytest.fixture
def app(redis_url: str) -> Iterator[Celery]:
    core = CoreSettings.from_env({"REDIS_URL": redis_url, "TASKPORT_ENV": "test"})
    app = Celery("result-backend-test")
    app.config_from_object(celery_config(core, WorkerSettings()))
    yield app
    app.close()


def stored(client: Any, task_id: str) -> dict[str, Any]:
    return json.loads(client.get(keys.celery_meta(task_id)))


def test_the_app_uses_it_and_reads_back_what_it_stored(app: Celery, redis_client: Any) -> None:
    backend = app.backend
    assert isinstance(backend, TaskportRedisBackend)
    backend.store_result("t-1", {"n": 1}, "STARTED")
    backend.store_result("t-1", {"n": 2}, "SUCCESS")
    meta = app.AsyncResult("t-1").get(timeout=5)
    assert meta == {"n": 2}
    assert stored(redis_client, "t-1")["status"] == "SUCCESS"
    ttl = redis_client.ttl(keys.celery_meta("t-1"))
    assert 0 < ttl <= app.conf.result_expires


def test_a_success_is_never_overwritten(app: Celery, redis_client: Any) -> None:
    # A duplicate run (redelivery after a lost ack) must not turn SUCCESS into FAILURE.
    app.backend.store_result("t-2", {"ok": True}, "SUCCESS")
    app.backend.store_result("t-2", None, "STARTED")
    app.backend.mark_as_failure("t-2", RuntimeError("late duplicate"))
    meta = stored(redis_client, "t-2")
    assert meta["status"] == "SUCCESS"
    assert meta["result"] == {"ok": True}


def test_other_states_are_replaced_and_published(app: Celery, redis_client: Any) -> None:
    pubsub = redis_client.pubsub()
    pubsub.subscribe(keys.celery_meta("t-3"))
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    app.backend.store_result("t-3", None, "STARTED")
    app.backend.mark_as_failure("t-3", ValueError("boom"))
    assert stored(redis_client, "t-3")["status"] == "FAILURE"
    published = [pubsub.get_message(timeout=1) for _ in range(2)]
    assert [json.loads(m["data"])["status"] for m in published if m] == ["STARTED", "FAILURE"]
    pubsub.close()


def test_a_corrupt_stored_value_is_replaced(app: Celery, redis_client: Any) -> None:
    redis_client.set(keys.celery_meta("t-4"), "not json")
    app.backend.store_result("t-4", 7, "SUCCESS")
    assert stored(redis_client, "t-4")["result"] == 7


def test_the_password_stays_masked_in_celery_output(redis_url: str) -> None:
    core = CoreSettings.from_env(
        {"REDIS_URL": redis_url, "REDIS_PASSWORD": "s3cret-pw", "TASKPORT_ENV": "test"}
    )
    conf = celery_config(core, WorkerSettings())
    assert "s3cret-pw" in conf["result_backend"]
    shown = filter_hidden_settings(conf)
    assert "s3cret-pw" not in json.dumps(shown, default=str)
    assert shown["result_backend"].startswith("taskport-redis+redis://")


def test_one_backend_is_shared_by_every_thread(app: Celery) -> None:
    # Celery keeps a backend per thread unless told otherwise; under gevent every task is
    # a new "thread", and building a backend per task cost a third of a webhook's CPU.
    import threading

    first = app.backend
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(app.backend)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(seen) == 3
    assert all(b is first for b in seen)


def test_a_success_written_in_another_key_order_is_kept(app: Celery, redis_client: Any) -> None:
    # Celery's own encoding starts with the status (read as a prefix); any other writer's
    # JSON is decoded to find it.
    redis_client.set(keys.celery_meta("t-5"), json.dumps({"result": 1, "status": "SUCCESS"}))
    app.backend.mark_as_failure("t-5", RuntimeError("late duplicate"))
    assert stored(redis_client, "t-5") == {"result": 1, "status": "SUCCESS"}
